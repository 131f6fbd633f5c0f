"""Revenue: duty demands, payments and receipts, deferment accounts and guarantees, refunds, and
the reports of what was charged and collected. Reacts to declarations being lodged, amended,
cancelled and refused; tells the others when duty is demanded, settled or refunded."""
