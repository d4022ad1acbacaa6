"""The architecture holds: layers import downward only, and production serving never loads DSPy or litellm."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PROMPT = ROOT / "artifacts" / "prompts" / "cot-smollm2-v1.json"

# Runs `logeval serve` in a fresh interpreter against a fake LM (a /health that answers 200), with uvicorn.run
# replaced by a check of sys.modules: the whole command path, from argument parsing to the app, is exercised.
SERVE_WITHOUT_DSPY = """
import sys, threading
from http.server import BaseHTTPRequestHandler, HTTPServer

class Health(BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200); self.end_headers(); self.wfile.write(b'{"status":"ok"}')
    def log_message(self, *args):
        pass

server = HTTPServer(("127.0.0.1", 0), Health)
threading.Thread(target=server.serve_forever, daemon=True).start()

import uvicorn
def fake_run(app, **kwargs):
    loaded = sorted(m for m in sys.modules if m.split(".")[0] in ("dspy", "litellm"))
    print("app:", type(app).__name__, "loaded:", loaded)
uvicorn.run = fake_run

from dspy_logeval.cli.app import app
app(["serve", "--prompt", sys.argv[1], "--endpoint", f"http://127.0.0.1:{server.server_port}"],
    standalone_mode=False)
"""


def test_logeval_serve_loads_neither_dspy_nor_litellm() -> None:
    proc = subprocess.run([sys.executable, "-c", SERVE_WITHOUT_DSPY, str(PROMPT)], cwd=ROOT, capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "app: FastAPI loaded: []" in proc.stdout, proc.stdout


def test_serving_modules_import_without_dspy() -> None:
    code = ("import sys\n"
            "import dspy_logeval.serve.api, dspy_logeval.serve.loki, dspy_logeval.serve.promotion, "
            "dspy_logeval.serve.session\n"
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('dspy', 'litellm')))\n")
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0 and proc.stdout.strip() == "[]", proc.stdout + proc.stderr


def test_cli_help_imports_no_engine() -> None:
    code = ("import sys\nfrom dspy_logeval.cli.app import app\n"
            "heavy = ('dspy', 'litellm', 'sklearn', 'pandas', 'numpy', 'scipy', 'rouge_score', 'fastapi', 'uvicorn')\n"
            "print(sorted({m.split('.')[0] for m in sys.modules} & set(heavy)))\n")
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0 and proc.stdout.strip() == "[]", proc.stdout + proc.stderr


def test_import_contracts_hold() -> None:
    lint = Path(sys.executable).parent / "lint-imports"
    proc = subprocess.run([str(lint), "--no-cache"], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "0 broken" in proc.stdout, proc.stdout
