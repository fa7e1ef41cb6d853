using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using AgentMarket.Testing.FakeOpenAi;
using AgentMarket.Tests.Gateway;
using AgentMarket.Tests.Infrastructure;
using Microsoft.Playwright;

namespace AgentMarket.Tests.Browser;

/// <summary>
/// SPEC §11 in Chromium: a visitor lands, finds an agent, tries it in the playground, adds it to My Agents by signing up
/// on the agent page, creates an API key and runs the curl snippet the page hands out — timed from landing to the paid run.
/// </summary>
public partial class BuyerJourneyTests(BuyerBrowserApp app, ITestOutputHelper output) : IClassFixture<BuyerBrowserApp>
{
    static readonly TimeSpan Target = TimeSpan.FromMinutes(2);

    [Fact]
    public async Task Visitor_FindsTriesSubscribes_AndRunsTheCurlSnippet_InUnderTwoMinutes()
    {
        var agent = await app.PromptAgentAsync();
        var word = agent.Name.Split(' ')[^1];
        const string answer = "I answer questions about your shop, day and night.";
        app.Model.When("What can you do?", FakeReply.Say(answer) with { ChunkSize = 5, ChunkDelay = TimeSpan.FromMilliseconds(20) });
        await using var context = await app.Browser.NewContextAsync();
        await context.GrantPermissionsAsync(["clipboard-read", "clipboard-write"], new() { Origin = app.BaseUrl });
        var page = await context.NewPageAsync();

        var clock = Stopwatch.StartNew();
        await page.GotoAsync(app.BaseUrl + "/");
        var search = page.GetByLabel("Search agents");
        await search.FillAsync(word);
        await search.PressAsync("Enter");
        await page.GetByRole(AriaRole.Article, new() { Name = agent.Name }).GetByRole(AriaRole.Link, new() { Name = "Run" }).ClickAsync();
        await page.WaitForPageAsync(new Regex($"/agents/{agent.Slug}#try$"));

        var playground = page.Locator("#try");
        await playground.GetByLabel("Message").FillAsync("What can you do?");
        await playground.GetByRole(AriaRole.Button, new() { Name = "Send" }).ClickAsync();
        await Assertions.Expect(playground.GetByRole(AriaRole.Log).Locator(".msg.agent")).ToHaveTextAsync(answer);
        await Assertions.Expect(playground.Locator("[data-trial-left]")).ToHaveTextAsync("2 free tries left today.");
        var firstAnswer = clock.Elapsed;

        await page.GetByText("Add to My Agents", new() { Exact = true }).ClickAsync();
        await page.GetByLabel("Name", new() { Exact = true }).FillAsync("Journey Buyer");
        await page.GetByLabel("Email").FillAsync($"journey-{Guid.NewGuid():N}@tests.example");
        await page.GetByLabel("Password").FillAsync("a very long password");
        await page.GetByRole(AriaRole.Button, new() { Name = "Create account and add" }).ClickAsync();
        await page.WaitForPageAsync(new Regex($"/agents/{agent.Slug}\\?subscribed=1"));
        await Assertions.Expect(page.Locator("[data-subscribed]")).ToContainTextAsync("Added to My Agents.");

        await page.GetByRole(AriaRole.Link, new() { Name = "create an API key" }).ClickAsync();
        await page.GetByLabel("Name", new() { Exact = true }).FillAsync("journey");
        await page.GetByRole(AriaRole.Button, new() { Name = "Create key" }).ClickAsync();
        await Assertions.Expect(page.Locator("[data-new-key]")).ToHaveTextAsync(new Regex("^am_live_"));
        await page.GetByRole(AriaRole.Button, new() { Name = "Copy cURL" }).ClickAsync();
        await Assertions.Expect(page.Locator("#snippet-curl-status")).ToHaveTextAsync("Copied.");
        var snippet = await page.EvaluateAsync<string>("() => navigator.clipboard.readText()");

        var run = await ShellAsync(snippet);
        clock.Stop();

        Assert.Equal(answer, run.GetProperty("output").GetString());
        Assert.Equal(5, run.GetProperty("credits_charged").GetInt64());
        Assert.Equal(345, run.GetProperty("balance").GetInt64());
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"landing → first playground answer: {firstAnswer.TotalSeconds:0.0} s; landing → first paid run with the curl snippet: {clock.Elapsed.TotalSeconds:0.0} s"));
        Assert.True(firstAnswer < TimeSpan.FromSeconds(60), $"first playground answer after {firstAnswer}");
        Assert.True(clock.Elapsed < Target, $"the journey took {clock.Elapsed}");
    }

    /// <summary>Runs a snippet as a buyer pasting it into a terminal would, and reads the JSON it prints.</summary>
    static async Task<JsonElement> ShellAsync(string snippet)
    {
        Assert.True(File.Exists("/usr/bin/curl") || File.Exists("/bin/curl"), "curl is needed to run the snippet (test.sh installs it)");
        var start = new ProcessStartInfo("/bin/sh") { RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add("-c");
        start.ArgumentList.Add(snippet);
        using var shell = Process.Start(start)!;
        var stdout = shell.StandardOutput.ReadToEndAsync();
        var stderr = shell.StandardError.ReadToEndAsync();
        await shell.WaitForExitAsync();
        Assert.True(shell.ExitCode == 0, $"the snippet failed ({shell.ExitCode}): {await stderr}");
        return JsonDocument.Parse(await stdout).RootElement.Clone();
    }
}
