namespace CloudPortal.ServiceDefaults;

/// <summary>
/// A problem an operator can fix (bad configuration, an unreachable dependency). The host prints its
/// message as one line and exits non-zero, without a stack trace.
/// </summary>
public sealed class StartupException : Exception
{
    public StartupException(string message) : base(message) { }

    public StartupException(string message, Exception inner) : base(message, inner) { }
}
