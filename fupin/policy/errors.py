class PolicyError(Exception):
    """A pack, a parameter or an input is wrong. The message is Chinese and names what and where."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message
