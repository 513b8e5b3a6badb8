from axes.backends import AxesStandaloneBackend


class LoginAttemptsBackend(AxesStandaloneBackend):
    """Limits sign-in attempts made over HTTP.

    Authentication without a request (management commands, the test client's `login`) has no
    client address to count attempts against, so only HTTP sign-ins are limited.
    """

    def authenticate(self, request, username=None, password=None, **kwargs):
        if request is None:
            return None
        return super().authenticate(request, username, password, **kwargs)
