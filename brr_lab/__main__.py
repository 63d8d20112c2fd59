from brr_lab.cli import run

run()
