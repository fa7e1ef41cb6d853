using System.ComponentModel.DataAnnotations;

namespace AgentMarket.Keys;

/// <summary>Bound from the <c>Keys</c> section.</summary>
public sealed class KeysOptions
{
    /// <summary>Requests per minute for a key that sets no limit of its own.</summary>
    [Range(1, 1_000_000)]
    public int DefaultRateLimitPerMinute { get; set; } = 600;

    /// <summary>How long a rotated key's previous secret keeps working unless the rotation says otherwise.</summary>
    [Range(0, 720)]
    public int RotationGraceHours { get; set; } = 24;
}
