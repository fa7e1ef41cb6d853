using AgentMarket.Catalog;
using AgentMarket.Catalog.Pricing;
using AgentMarket.Providers.Agents;

namespace AgentMarket.Tests.Catalog;

/// <summary>Pure rules: price increases and the notice schedule, semantic versions.</summary>
public class PricingRulesTests
{
    static readonly DateTime Start = new(2026, 3, 1, 12, 0, 0, DateTimeKind.Utc);
    static readonly TimeSpan Notice = TimeSpan.FromDays(14);
    static readonly Guid Listing = Guid.CreateVersion7();

    static PricingTerms Fixed(long credits) => new(PricingModel.FixedCredits, credits, 0, 0);

    [Theory]
    [InlineData(PricingModel.FixedCredits, 5, 0, 0, PricingModel.FixedCredits, 6, 0, 0, true)]
    [InlineData(PricingModel.FixedCredits, 5, 0, 0, PricingModel.FixedCredits, 4, 0, 0, false)]
    [InlineData(PricingModel.VariableCredits, 0, 2, 9, PricingModel.VariableCredits, 0, 1, 12, true)]
    [InlineData(PricingModel.VariableCredits, 0, 2, 9, PricingModel.VariableCredits, 0, 1, 9, false)]
    [InlineData(PricingModel.FixedCredits, 5, 0, 0, PricingModel.Free, 0, 0, 0, false)]
    [InlineData(PricingModel.Free, 0, 0, 0, PricingModel.FixedCredits, 1, 0, 0, true)]
    [InlineData(PricingModel.FixedCredits, 50, 0, 0, PricingModel.Subscription, 10, 0, 0, true)]
    public void IsIncreaseOver_ComparesWhatSubscribersCouldPay(PricingModel fromModel, long fromRun, long fromMin, long fromMax, PricingModel toModel, long toRun, long toMin, long toMax, bool increase) =>
        Assert.Equal(increase, new PricingTerms(toModel, toRun, toMin, toMax).IsIncreaseOver(new PricingTerms(fromModel, fromRun, fromMin, fromMax)));

    [Fact]
    public void AnIncrease_ReachesExistingSubscribersOnlyAfterTheNotice_AndNewBuyersAtOnce()
    {
        var change = PriceSchedule.Change(Listing, Fixed(5), Fixed(8), [], Start, Notice);
        Assert.Equal(Start + Notice, change.EffectiveForSubscribersUtc);
        ListingPriceChange[] history = [change];

        var subscribedBefore = Start.AddDays(-30);
        Assert.Equal(Fixed(5), PriceSchedule.ForSubscriber(Fixed(8), history, subscribedBefore, Start.AddDays(13)));
        Assert.Equal(Fixed(8), PriceSchedule.ForSubscriber(Fixed(8), history, subscribedBefore, Start.AddDays(14)));
        Assert.Equal(Fixed(8), PriceSchedule.ForSubscriber(Fixed(8), history, subscribedUtc: Start.AddHours(1), now: Start.AddDays(1)));
    }

    [Fact]
    public void ADecrease_AppliesAtOnce_AndEndsANoticeItUndercuts()
    {
        var increase = PriceSchedule.Change(Listing, Fixed(5), Fixed(8), [], Start, Notice);
        var later = Start.AddDays(3);
        var decrease = PriceSchedule.Change(Listing, Fixed(8), Fixed(4), [increase], later, Notice);

        Assert.Equal(later, decrease.EffectiveForSubscribersUtc);
        Assert.Equal(later, increase.EffectiveForSubscribersUtc);
        Assert.Equal(Fixed(4), PriceSchedule.ForSubscriber(Fixed(4), [increase, decrease], Start.AddDays(-1), later.AddMinutes(1)));
    }

    [Fact]
    public void ADecreaseThatStaysAboveTheOldPrice_KeepsTheNotice()
    {
        var increase = PriceSchedule.Change(Listing, Fixed(5), Fixed(10), [], Start, Notice);
        var later = Start.AddDays(3);
        var decrease = PriceSchedule.Change(Listing, Fixed(10), Fixed(7), [increase], later, Notice);

        Assert.Equal(Start + Notice, increase.EffectiveForSubscribersUtc);
        ListingPriceChange[] history = [increase, decrease];
        Assert.Equal(Fixed(5), PriceSchedule.ForSubscriber(Fixed(7), history, Start.AddDays(-1), later.AddDays(1)));
        Assert.Equal(Fixed(7), PriceSchedule.ForSubscriber(Fixed(7), history, Start.AddDays(-1), Start + Notice));
    }

    [Fact]
    public void TwoIncreases_EachGiveTheirOwnNotice()
    {
        var first = PriceSchedule.Change(Listing, Fixed(5), Fixed(8), [], Start, Notice);
        var second = PriceSchedule.Change(Listing, Fixed(8), Fixed(12), [first], Start.AddDays(10), Notice);
        ListingPriceChange[] history = [first, second];
        var subscriber = Start.AddDays(-1);

        Assert.Equal(Fixed(5), PriceSchedule.ForSubscriber(Fixed(12), history, subscriber, Start.AddDays(12)));
        Assert.Equal(Fixed(8), PriceSchedule.ForSubscriber(Fixed(12), history, subscriber, Start.AddDays(20)));
        Assert.Equal(Fixed(12), PriceSchedule.ForSubscriber(Fixed(12), history, subscriber, Start.AddDays(24)));
    }

    [Fact]
    public void ARevertWithinTheNotice_KeepsEarlierSubscribersOnTheirTerms_AndGivesLaterOnesTheirOwnNotice()
    {
        var monthly = new PricingTerms(PricingModel.Subscription, 1000, 0, 0);
        var raise = PriceSchedule.Change(Listing, Fixed(10), monthly, [], Start, Notice);
        var revert = PriceSchedule.Change(Listing, monthly, Fixed(10), [raise], Start.AddDays(13), Notice);
        ListingPriceChange[] history = [raise, revert];

        var before = Start.AddDays(-1);
        Assert.Equal(Fixed(10), PriceSchedule.ForSubscriber(Fixed(10), history, before, Start.AddDays(12)));
        Assert.Equal(Fixed(10), PriceSchedule.ForSubscriber(Fixed(10), history, before, Start.AddDays(15)));
        Assert.Equal(Fixed(10), PriceSchedule.ForSubscriber(Fixed(10), history, before, Start.AddDays(27)));
        // A buyer who subscribed on the monthly terms gets notice of the move back to per-run prices.
        var between = Start.AddDays(2);
        Assert.Equal(monthly, PriceSchedule.ForSubscriber(Fixed(10), history, between, Start.AddDays(15)));
        Assert.Equal(Fixed(10), PriceSchedule.ForSubscriber(Fixed(10), history, between, Start.AddDays(27)));
    }

    [Theory]
    [InlineData("1.2.3", true)]
    [InlineData("v2.0.0", true)]
    [InlineData("1.2", false)]
    [InlineData("1.2.3-beta", false)]
    [InlineData("01.2.3", false)]
    [InlineData("1.2.-3", false)]
    [InlineData("1234567.0.0", false)]
    [InlineData("", false)]
    public void SemanticVersion_Parses_OnlyPlainThreePartVersions(string text, bool valid) =>
        Assert.Equal(valid, SemanticVersion.TryParse(text, out _));

    [Fact]
    public void SemanticVersion_SortsNumerically_AndKnowsPatchUpgrades()
    {
        Assert.True(new SemanticVersion(1, 10, 0) > new SemanticVersion(1, 9, 9));
        Assert.True(new SemanticVersion(1, 4, 3).IsPatchUpgradeOf(new SemanticVersion(1, 4, 1)));
        Assert.False(new SemanticVersion(1, 5, 0).IsPatchUpgradeOf(new SemanticVersion(1, 4, 1)));
        Assert.Equal(new SemanticVersion(1, 5, 0), new SemanticVersion(1, 4, 7).NextMinor());
    }
}
