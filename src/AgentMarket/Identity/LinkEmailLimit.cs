namespace AgentMarket.Identity;

/// <summary>
/// How often an account may be sent a link by email (a password reset, an email change), however often its form is
/// sent: one a minute and three an hour, so the form cannot flood anyone's mailbox. Counted in an
/// <see cref="AccountLock"/> transaction, so two requests at once cannot both see room under the limit and both send.
/// </summary>
static class LinkEmailLimit
{
    static readonly TimeSpan MinimumInterval = TimeSpan.FromMinutes(1);
    const int MaxPerHour = 3;

    /// <summary>The start of the window whose links count: the caller reads their creation times since then.</summary>
    public static DateTime WindowStart(DateTime now) => now.AddHours(-1);

    /// <summary>How long until another link may be sent, given the links created since <see cref="WindowStart"/>; null: now.</summary>
    public static TimeSpan? RetryAfter(IReadOnlyCollection<DateTime> recent, DateTime now) =>
        recent.Count >= MaxPerHour ? recent.Min().AddHours(1) - now
        : recent.Count > 0 && recent.Max() > now - MinimumInterval ? recent.Max() + MinimumInterval - now
        : null;
}
