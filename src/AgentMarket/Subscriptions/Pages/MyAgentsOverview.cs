using AgentMarket.Credits.Ledger;

namespace AgentMarket.Subscriptions.Pages;

/// <summary>What the My Agents dashboard shows (<see cref="MyAgentsCards"/>).</summary>
public sealed record MyAgentsOverview(WalletBalance Balance, Credits.Pages.BuyCredits More, int Runs, long Spent, IReadOnlyList<MyAgentCard> Agents);

/// <summary>One subscribed agent's card: its names, since when, and its runs and credits over the dashboard's period.</summary>
/// <param name="Unavailable">Null while the agent runs; else why its runs are refused.</param>
public sealed record MyAgentCard(Guid Config, string Name, string ListingName, string ListingSlug, DateTime Subscribed, int Runs, long Credits, string? Unavailable = null);

