"""Write-off: cargo lines reconciled against the trade declarations that cover them."""
