using System.ComponentModel.DataAnnotations;

namespace AgentMarket.Identity;

/// <summary>Bound from the <c>Identity</c> section.</summary>
public sealed class AccountOptions
{
    /// <summary>Failed sign-ins in a row from one client address before that address may not try the email for a while.</summary>
    [Range(1, 100)]
    public int LockoutThreshold { get; set; } = 5;

    /// <summary>
    /// Failed sign-ins in a row, from any addresses, before the account itself is locked: against guessing spread over many
    /// addresses, high enough that one address (stopped at <see cref="LockoutThreshold"/>) cannot lock its owner out.
    /// </summary>
    [Range(1, 10_000)]
    public int AccountLockoutThreshold { get; set; } = 50;

    /// <summary>How long a locked address or account stays locked.</summary>
    [Range(1, 1440)]
    public int LockoutMinutes { get; set; } = 15;

    [Range(10, 128)]
    public int MinimumPasswordLength { get; set; } = 10;

    /// <summary>How long an invitation link stays valid.</summary>
    [Range(1, 90)]
    public int InvitationDays { get; set; } = 14;

    /// <summary>Sign-in, sign-up and token requests allowed per client address per minute.</summary>
    [Range(1, 100_000)]
    public int AuthRequestsPerMinute { get; set; } = 30;
}

/// <summary>The first operator, created at start-up when both are set (<c>Admin:Email</c>, <c>Admin:Password</c>).</summary>
public sealed class AdminOptions
{
    public string? Email { get; set; }
    public string? Password { get; set; }
}
