"""The `fupin` command answers an unready installation with a Chinese message and exit code 2,
never a traceback."""
import os
import subprocess
import sys
from pathlib import Path

FUPIN = str(Path(sys.executable).with_name("fupin"))


def test_missing_secret_key_is_a_message_not_a_traceback(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("FUPIN_", "PYTEST", "DJANGO"))}
    r = subprocess.run([FUPIN, "token", "create", "someone"], capture_output=True, text=True, env=env, cwd=tmp_path)
    assert r.returncode == 2
    assert r.stderr.strip() == ("FUPIN_SECRET_KEY 未设置：生产部署必须通过环境变量提供密钥"
                                "（例如：export FUPIN_SECRET_KEY=<随机长字符串>）")
    assert "Traceback" not in r.stderr
