"""Choice sets of the notifications app: events, severities, channels, delivery states."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

__all__ = ["ALL_EVENTS", "Channel", "DeliveryState", "Event", "Severity", "severity_rank"]

ALL_EVENTS = "*"


class Event(models.TextChoices):
    """What happened. ``notify(event=...)`` takes one of these (COMMON.md interface 3)."""

    ALARM_OPENED = "alarm.opened", _("告警产生")
    ALARM_ESCALATED = "alarm.escalated", _("告警升级")
    TICKET_ASSIGNED = "ticket.assigned", _("工单派发")
    TICKET_CLOSED = "ticket.closed", _("工单关闭")
    PERMIT_DECIDED = "permit.decided", _("许可审批结果")
    PERMIT_DEADLINE = "permit.deadline", _("许可到期提醒")
    TRADE_ANNOUNCED = "trade.announced", _("交易公示")
    TRADE_COMPLETED = "trade.completed", _("交易完成")
    QUALITY_WARNING = "quality.warning", _("水质预警")
    CASE_DEADLINE = "case.deadline", _("执法案件期限提醒")
    CASE_DECIDED = "case.decided", _("行政处罚决定")
    # supervision: work plans, rectification orders, accountability, assessment
    PLAN_SUBMITTED = "plan.submitted", _("工作计划报审")
    PLAN_DECIDED = "plan.decided", _("工作计划审核结果")
    TASK_OVERDUE = "task.overdue", _("计划任务逾期")
    RECTIFICATION_ISSUED = "rectification.issued", _("整改通知下达")
    RECTIFICATION_ANSWERED = "rectification.answered", _("整改情况报送")
    RECTIFICATION_DECIDED = "rectification.decided", _("整改核查结果")
    RECTIFICATION_OVERDUE = "rectification.overdue", _("整改逾期")
    ACCOUNTABILITY_OPENED = "accountability.opened", _("启动问责")
    ASSESSMENT_PUBLISHED = "assessment.published", _("考核结果公布")
    COMPLAINT_FILED = "complaint.filed", _("收到公众举报")
    COMPLAINT_OVERDUE = "complaint.overdue", _("举报答复超期")


class Severity(models.TextChoices):
    INFO = "info", _("提示")
    WARNING = "warning", _("警告")
    CRITICAL = "critical", _("严重")


_RANK = {Severity.INFO: 0, Severity.WARNING: 1, Severity.CRITICAL: 2}


def severity_rank(severity: str) -> int:
    return _RANK[Severity(severity)]


class Channel(models.TextChoices):
    INBOX = "inbox", _("站内信")
    EMAIL = "email", _("电子邮件")
    SMS = "sms", _("短信")


class DeliveryState(models.TextChoices):
    PENDING = "pending", _("待发送")
    SENDING = "sending", _("发送中")
    SENT = "sent", _("已发送")
    FAILED = "failed", _("发送失败，待重试")
    SKIPPED = "skipped", _("无收件地址")
