using System.ComponentModel.DataAnnotations;

namespace AgentMarket.Identity;

/// <summary>Bound from the <c>Identity</c> section.</summary>
public sealed class AccountOptions
{
    /// <summary>Failed sign-ins in a row before the account is locked.</summary>
    [Range(1, 100)]
    public int LockoutThreshold { get; set; } = 5;

    /// <summary>How long a locked account stays locked.</summary>
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
