using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using AgentMarket.Tests.Catalog;
using AgentMarket.Tests.Infrastructure;
using AgentMarket.Tests.Providers;

namespace AgentMarket.Tests.Admin;

/// <summary>
/// Browsers send a textarea's line breaks as \r\n: saving a live listing's form without touching its description must not
/// put the description before the operator as an edit (ADR-163).
/// </summary>
public class ListingDescriptionLineBreakTests(ManualListingApprovalApp app) : IClassFixture<ManualListingApprovalApp>
{
    [Fact]
    public async Task ResavingTheSameDescriptionWithBrowserLineBreaks_ProposesNoEdit_WhileARealChangeStillWaits()
    {
        var agent = await app.PublishedAgentAsync();
        var listing = $"/api/provider-agents/{agent.AgentId}/listing/";
        var description = $"## {CatalogIntents.UniqueWord()}\n\nAnswers questions.\nPolitely.";
        await Http.ReadJsonAsync(await agent.Seller.Client.PatchAsJsonAsync(listing, new { description }));
        var operatorClient = await app.OperatorAsync();
        await Http.AssertStatusAsync(await operatorClient.PostAsync($"/api/admin/listings/{agent.ListingId}/approve/", null), HttpStatusCode.NoContent);

        var resaved = await Http.ReadJsonAsync(await agent.Seller.Client.PatchAsJsonAsync(listing, new { description = description.Replace("\n", "\r\n") + "\r\n" }));
        Assert.Equal(JsonValueKind.Null, resaved.GetProperty("pending_change").ValueKind);
        Assert.Equal(description, resaved.GetProperty("description").GetString());

        var edited = await Http.ReadJsonAsync(await agent.Seller.Client.PatchAsJsonAsync(listing, new { description = description.Replace("Politely.", "Briefly.\r\nKindly.") }));
        Assert.Equal(description.Replace("Politely.", "Briefly.\nKindly."), edited.GetProperty("pending_change").GetProperty("description").GetString());
    }
}
