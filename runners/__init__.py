"""What the ``trisim`` commands do: one module per command, and the batch layer they share."""
