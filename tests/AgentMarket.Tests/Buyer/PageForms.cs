using System.Net;
using System.Text.RegularExpressions;
using AgentMarket.Tests.Infrastructure;

namespace AgentMarket.Tests.Buyer;

/// <summary>Server-rendered pages as a browser without JavaScript uses them: read a page, post one of its forms.</summary>
public static partial class PageForms
{
    /// <summary>GETs <paramref name="url"/>, then posts its form named <paramref name="form"/> with the page's antiforgery token and <paramref name="fields"/>.</summary>
    public static async Task<HttpResponseMessage> SubmitAsync(this HttpClient client, string url, string form, Dictionary<string, string>? fields = null)
    {
        var page = await client.GetAsync(url);
        await Http.AssertStatusAsync(page, HttpStatusCode.OK);
        return await client.SubmitFromPageAsync(url, await page.Content.ReadAsStringAsync(), form, fields);
    }

    /// <summary>
    /// Posts the form named <paramref name="form"/> of <paramref name="html"/>, a page read earlier and left open while others
    /// changed what it shows, with that page's antiforgery token and <paramref name="fields"/>.
    /// </summary>
    public static async Task<HttpResponseMessage> SubmitFromPageAsync(this HttpClient client, string url, string html, string form, Dictionary<string, string>? fields = null)
    {
        Assert.Contains($"value=\"{form}\"", html, StringComparison.Ordinal);
        var body = new Dictionary<string, string>(fields ?? [])
        {
            ["_handler"] = form,
            ["__RequestVerificationToken"] = Forms.HiddenValue(html, "__RequestVerificationToken"),
        };
        return await client.PostAsync(url, new FormUrlEncodedContent(body));
    }

    /// <summary>
    /// GETs <paramref name="url"/>, then posts its form named <paramref name="form"/> as a form with
    /// <c>enctype="multipart/form-data"</c> does: the page's antiforgery token, <paramref name="fields"/> and
    /// <paramref name="file"/> as the file input <paramref name="fileField"/>.
    /// </summary>
    public static async Task<HttpResponseMessage> SubmitWithFileAsync(this HttpClient client, string url, string form, Dictionary<string, string> fields,
        string fileField, byte[] file, string fileName)
    {
        var response = await client.GetAsync(url);
        await Http.AssertStatusAsync(response, HttpStatusCode.OK);
        var page = await response.Content.ReadAsStringAsync();
        Assert.Contains($"value=\"{form}\"", page, StringComparison.Ordinal);
        using var body = new MultipartFormDataContent
        {
            { new StringContent(form), "_handler" },
            { new StringContent(Forms.HiddenValue(page, "__RequestVerificationToken")), "__RequestVerificationToken" },
            { new ByteArrayContent(file), fileField, fileName },
        };
        foreach (var (name, value) in fields)
        {
            body.Add(new StringContent(value), name);
        }
        return await client.PostAsync(url, body);
    }

    /// <summary>Asserts a post/redirect/get answer and returns where it redirects (path, query and fragment).</summary>
    public static string AssertRedirect(HttpResponseMessage response, string startsWith)
    {
        Assert.True(response.StatusCode == HttpStatusCode.Redirect, $"expected a redirect, got {(int)response.StatusCode}");
        var target = response.Headers.Location!;
        var location = target.IsAbsoluteUri ? target.PathAndQuery + target.Fragment : target.OriginalString;
        Assert.StartsWith(startsWith, location, StringComparison.Ordinal);
        return location;
    }

    public static async Task<string> HtmlAsync(this HttpClient client, string url, HttpStatusCode status = HttpStatusCode.OK)
    {
        var response = await client.GetAsync(url);
        await Http.AssertStatusAsync(response, status);
        return WebUtility.HtmlDecode(await response.Content.ReadAsStringAsync());
    }

    public static async Task<string> HtmlAsync(this HttpResponseMessage response) => WebUtility.HtmlDecode(await response.Content.ReadAsStringAsync());

    /// <summary>The text of the first element carrying <paramref name="attribute"/> (a <c>data-…</c> marker).</summary>
    public static string Marked(string html, string attribute)
    {
        var match = Regex.Match(html, $"<[a-z0-9]+[^>]*\\s{Regex.Escape(attribute)}(=\"[^\"]*\")?[^>]*>(?<text>[^<]*)<", RegexOptions.IgnoreCase);
        Assert.True(match.Success, $"nothing marked {attribute} in the page");
        return match.Groups["text"].Value.Trim();
    }

    [GeneratedRegex("am_live_[0-9A-Za-z]+")]
    public static partial Regex SecretKey();
}
