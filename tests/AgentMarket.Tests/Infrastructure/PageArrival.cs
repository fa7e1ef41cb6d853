using System.Text.RegularExpressions;
using Microsoft.Playwright;

namespace AgentMarket.Tests.Infrastructure;

/// <summary>
/// Waits until a page is at an address and loaded, in place of Playwright's <c>WaitForURLAsync</c>.
/// </summary>
/// <remarks>
/// Playwright 1.64's <c>WaitForURLAsync</c>, once the address matches, checks the frame's load states and then subscribes
/// to the next one, without synchronising with the connection's thread that records them. A load event recorded between
/// the check and the subscription is never seen, and the call times out after 30 s although the page has loaded: CI saw
/// it under load, after a form post that redirected quickly. These waits run in the browser instead, where the address
/// and the document's state are read together, and retry until they hold.
/// </remarks>
public static class PageArrival
{
    const float Timeout = 30_000;

    /// <summary>The page is at exactly <paramref name="url"/> and loaded; a <see cref="TimeoutException"/> otherwise.</summary>
    public static Task WaitForPageAsync(this IPage page, string url) =>
        ArriveAsync(page, url, () => Assertions.Expect(page).ToHaveURLAsync(url, new() { Timeout = Timeout }));

    /// <summary>The page's address matches <paramref name="url"/> and the page is loaded; a <see cref="TimeoutException"/> otherwise.</summary>
    public static Task WaitForPageAsync(this IPage page, Regex url) =>
        ArriveAsync(page, url.ToString(), () => Assertions.Expect(page).ToHaveURLAsync(url, new() { Timeout = Timeout }));

    /// <summary>
    /// Playwright reports a failed address assertion as a <see cref="PlaywrightException"/>; callers get the same
    /// <see cref="TimeoutException"/> whichever overload they used, naming where the page is.
    /// </summary>
    static async Task ArriveAsync(IPage page, string expected, Func<Task> atAddress)
    {
        try
        {
            await atAddress();
        }
        catch (PlaywrightException exception)
        {
            throw new TimeoutException($"The page did not reach {expected} within {Timeout} ms; it is at {page.Url}.", exception);
        }
        await LoadedAsync(page);
    }

    /// <summary>The page's address satisfies <paramref name="url"/> and the page is loaded; a <see cref="TimeoutException"/> otherwise.</summary>
    public static async Task WaitForPageAsync(this IPage page, Func<string, bool> url)
    {
        var deadline = DateTime.UtcNow.AddMilliseconds(Timeout);
        while (!url(page.Url))
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"The page stayed at {page.Url} for {Timeout} ms.");
            }
            await Task.Delay(50);
        }
        await LoadedAsync(page);
    }

    static async Task LoadedAsync(IPage page)
    {
        var loaded = await page.WaitForFunctionAsync("() => document.readyState === 'complete'", null, new() { Timeout = Timeout });
        await loaded.DisposeAsync();
    }
}
