using AgentMarket.Tests.Gateway;

namespace AgentMarket.Tests.Economics;

/// <summary>The gateway app with a price for the fake model, so runs have a model cost.</summary>
public class EconomicsApp : GatewayApp
{
    /// <summary>Credits per million tokens of the operator's default model (the fake server's).</summary>
    public const decimal InputPrice = 250_000m;
    public const decimal OutputPrice = 1_000_000m;

    protected virtual string GrantedCreditRuns => "pay";

    protected override IEnumerable<KeyValuePair<string, string?>> ExtraSettings() =>
    [
        .. base.ExtraSettings(),
        new("Economics:ModelPrices:operator-default-model:Input", InputPrice.ToString(System.Globalization.CultureInfo.InvariantCulture)),
        new("Economics:ModelPrices:operator-default-model:Output", OutputPrice.ToString(System.Globalization.CultureInfo.InvariantCulture)),
        new("Economics:GrantedCreditRuns", GrantedCreditRuns),
    ];
}

/// <summary>Runs paid with granted credits earn providers half of a paid run's payout.</summary>
public sealed class ReducedGrantsApp : EconomicsApp
{
    public const int Percent = 50;

    protected override string GrantedCreditRuns => $"reduced:{Percent}";
}
