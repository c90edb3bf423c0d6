"""The citizen QR channel: signed counter codes (`codes`), counters and their addresses
(`counters`), the submit service behind the citizen's form (`submit`), which posters to
print (`printing`) and drawing them as PDF/PNG/SVG (`posters`)."""
