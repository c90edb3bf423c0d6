"""The interviewer app: what a device downloads (cases, the questionnaire and its rules), the
validation both sides apply, and what the server does with an item of a device's queue."""
