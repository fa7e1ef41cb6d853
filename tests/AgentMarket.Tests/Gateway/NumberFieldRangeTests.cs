using System.Net;
using System.Net.Http.Json;
using AgentMarket.Tests.Buyer;
using AgentMarket.Tests.Infrastructure;

namespace AgentMarket.Tests.Gateway;

/// <summary>A declared number field may have a range: the provider's default and every buyer's value stay within it.</summary>
public class NumberFieldRangeTests(GatewayApp app) : IClassFixture<GatewayApp>
{
    [Fact]
    public async Task ANumberFieldsRange_BoundsItsDefault_AndTheBuyersValue()
    {
        var subscribed = await app.SubscribedAsync();
        var seller = subscribed.Agent.Seller;
        var fieldsUrl = $"/api/provider-agents/{subscribed.Agent.AgentId}/configurable_fields/";
        object Temperature(string @default, double minimum, double maximum) => new
        {
            fields = new[] { new { key = "temperature", node_id = "LanguageModelComponent-LsJMR", field_name = "temperature", label = "Creativity", kind = "number", default_value = @default, minimum, maximum } },
        };

        foreach (var (body, wrong) in new (object, string)[]
        {
            (Temperature("5", 0, 2), "default_value"),
            (Temperature("1", 2, 0), "minimum"),
            (new { fields = new[] { new { key = "persona", node_id = "Prompt-xvuxC", field_name = "template", label = "Persona", kind = "long_text", default_value = "Hi", minimum = 0, maximum = 2 } } }, "minimum"),
        })
        {
            var refused = await Http.AssertProblemAsync(await seller.Client.PutAsJsonAsync(fieldsUrl, body), HttpStatusCode.BadRequest, "validation_failed");
            Assert.True(refused.GetProperty("errors").TryGetProperty($"fields[0].{wrong}", out _), refused.GetRawText());
        }
        var declared = Assert.Single((await Http.ReadJsonAsync(await seller.Client.PutAsJsonAsync(fieldsUrl, Temperature("0.7", 0, 2)))).EnumerateArray());
        Assert.Equal((0d, 2d), (declared.GetProperty("minimum").GetDouble(), declared.GetProperty("maximum").GetDouble()));

        // The buyer sees the bounds, and a value outside them is refused with them.
        var config = $"/api/customer-agent-configs/{subscribed.Config}/";
        var field = (await Http.ReadJsonAsync(await subscribed.Buyer.Client.GetAsync(config))).GetProperty("fields").EnumerateArray().Single(f => f.GetProperty("key").GetString() == "temperature");
        Assert.Equal((0d, 2d), (field.GetProperty("minimum").GetDouble(), field.GetProperty("maximum").GetDouble()));
        var tooHot = await Http.AssertProblemAsync(await subscribed.Buyer.Client.PatchAsJsonAsync(config, new { settings = new { temperature = 3.5 } }), HttpStatusCode.BadRequest, "validation_failed");
        Assert.Contains("Enter a number from 0 to 2.", tooHot.GetRawText(), StringComparison.Ordinal);
        // A number too large for any flow is refused too, not a server error.
        using var huge = new StringContent("""{"settings": {"temperature": 1e400}}""", System.Text.Encoding.UTF8, "application/json");
        await Http.AssertProblemAsync(await subscribed.Buyer.Client.PatchAsync(config, huge), HttpStatusCode.BadRequest, "validation_failed");
        await Http.AssertStatusAsync(await subscribed.Buyer.Client.PatchAsJsonAsync(config, new { settings = new { temperature = 1.5 } }), HttpStatusCode.OK);
        Assert.Contains("min=\"0\" max=\"2\"", await subscribed.Buyer.Client.HtmlAsync($"/my-agents/{subscribed.Config}/configure/persona"), StringComparison.Ordinal);
    }
}
