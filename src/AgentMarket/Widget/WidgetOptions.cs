using System.ComponentModel.DataAnnotations;

namespace AgentMarket.Widget;

/// <summary>Bound from the <c>Widget</c> section.</summary>
public sealed class WidgetOptions
{
    /// <summary>How long a widget session token works; the widget asks for a new one on its own when it runs out.</summary>
    [Range(1, 240)]
    public int SessionMinutes { get; set; } = 20;

    /// <summary>Messages one visitor may send per minute through one key's widget (the key's own rate limit applies too).</summary>
    [Range(1, 1_000_000)]
    public int VisitorMessagesPerMinute { get; set; } = 12;

    /// <summary>Widget sessions one client address may open per minute for one key; every page view opens one.</summary>
    [Range(1, 1_000_000)]
    public int SessionsPerMinutePerAddress { get; set; } = 60;
}
