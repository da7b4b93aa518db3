"""Early exits beside BottleFit (issue 18): sweep specs, the claims table. See docs/early_exits.md."""
