"""Built-in commands combined with options."""

import subprocess
import sys
import textwrap


def test_print_config_with_dash_p_prints_the_config_once(tmp_path):
    script = tmp_path / "once.py"
    script.write_text(
        textwrap.dedent(
            """
            from sacredlike import Experiment
            ex = Experiment("once", save_git_info=False)
            ex.add_config(alpha=1)
            ex.main(lambda alpha: alpha)
            ex.run_commandline()
            """
        )
    )
    done = subprocess.run(
        [sys.executable, str(script), "print_config", "-p"], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.count("alpha = 1") == 1
