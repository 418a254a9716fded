from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("core", "0002_audit_append_only")]

    operations = [
        migrations.AlterField(
            model_name="user",
            name="role",
            field=models.CharField(
                choices=[
                    ("bureau", "县水务局"),
                    ("township", "乡镇工作人员"),
                    ("water_user", "取用水户"),
                    ("inspector", "执法人员"),
                    ("public", "公众"),
                ],
                default="public",
                max_length=16,
                verbose_name="角色",
            ),
        ),
    ]
