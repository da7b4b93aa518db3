import sys

try:
    from sim.cli import main
except KeyboardInterrupt:  # Ctrl-C while importing: nothing was written yet
    print("interrupted", file=sys.stderr)
    raise SystemExit(130) from None

raise SystemExit(main())
