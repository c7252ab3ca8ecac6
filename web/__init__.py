"""The lookup and review web app over the published golden file (`kundenstamm serve`)."""
