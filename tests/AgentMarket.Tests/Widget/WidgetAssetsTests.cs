using System.IO.Compression;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;
using AgentMarket.Tests.Infrastructure;

namespace AgentMarket.Tests.Widget;

/// <summary>
/// The widget's files as the server ships them: within budget compressed (loader ≤ 2 KB, loader plus main ≤ 15 KB gzip),
/// the loader short-cached, the main file named by its content's hash and cached as immutable.
/// </summary>
public partial class WidgetAssetsTests(WidgetApp app) : IClassFixture<WidgetApp>
{
    const int LoaderBudget = 2 * 1024;
    const int WidgetBudget = 15 * 1024;

    [Fact]
    public async Task ShippedFiles_AreWithinTheGzipBudget_Fingerprinted_AndCachedAccordingly()
    {
        var client = app.CreateClient();
        var loader = await GetAsync(client, "/widget.js", "gzip");
        Assert.Equal("gzip", Assert.Single(loader.Content.Headers.ContentEncoding));
        var loaderBytes = await loader.Content.ReadAsByteArrayAsync();
        var loaderText = Gunzip(loaderBytes);
        Assert.Contains("data-agent-key", loaderText, StringComparison.Ordinal);
        Assert.InRange(loader.Headers.CacheControl!.MaxAge!.Value, TimeSpan.FromSeconds(1), TimeSpan.FromHours(1));
        Assert.DoesNotContain(loader.Headers.CacheControl.Extensions, e => e.Name == "immutable");

        var mainPath = "/" + MainFile().Match(loaderText).Value;
        var main = await GetAsync(client, mainPath, "gzip");
        Assert.Equal("gzip", Assert.Single(main.Content.Headers.ContentEncoding));
        var mainBytes = await main.Content.ReadAsByteArrayAsync();
        var mainText = Gunzip(mainBytes);
        Assert.Contains("export async function mount", mainText, StringComparison.Ordinal);
        Assert.Contains("export function createChat", mainText, StringComparison.Ordinal);
        var hash = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(mainText)))[..16];
        Assert.Equal($"/widget/main.{hash}.js", mainPath);
        Assert.Equal(TimeSpan.FromDays(365), main.Headers.CacheControl!.MaxAge);
        Assert.Contains(main.Headers.CacheControl.Extensions, e => e.Name == "immutable");
        Assert.Equal("*", main.Headers.GetValues("Access-Control-Allow-Origin").Single());
        Assert.Contains("Accept-Encoding", main.Headers.Vary);
        Assert.StartsWith("text/javascript", main.Content.Headers.ContentType!.ToString(), StringComparison.Ordinal);

        Assert.True(loaderBytes.Length <= LoaderBudget, $"loader is {loaderBytes.Length} bytes gzip; budget {LoaderBudget}");
        Assert.True(loaderBytes.Length + mainBytes.Length <= WidgetBudget, $"widget is {loaderBytes.Length + mainBytes.Length} bytes gzip; budget {WidgetBudget}");

        // Brotli where accepted (smaller still), plain text where nothing is, and 304 for what the browser already has.
        var brotli = await GetAsync(client, mainPath, "br, gzip");
        Assert.Equal("br", Assert.Single(brotli.Content.Headers.ContentEncoding));
        var brotliBytes = await brotli.Content.ReadAsByteArrayAsync();
        Assert.True(brotliBytes.Length <= mainBytes.Length);
        using (var decoder = new BrotliStream(new MemoryStream(brotliBytes), CompressionMode.Decompress))
        using (var reader = new StreamReader(decoder))
        {
            Assert.Equal(mainText, await reader.ReadToEndAsync());
        }
        var plain = await GetAsync(client, mainPath, null);
        Assert.Empty(plain.Content.Headers.ContentEncoding);
        Assert.Equal(mainText, await plain.Content.ReadAsStringAsync());
        var again = new HttpRequestMessage(HttpMethod.Get, mainPath);
        again.Headers.IfNoneMatch.Add(main.Headers.ETag!);
        Assert.Equal(HttpStatusCode.NotModified, (await client.SendAsync(again)).StatusCode);

        // A loader cached from a previous release asks for the previous fingerprint: it gets today's file, not cached.
        var stale = await GetAsync(client, "/widget/main.0123456789abcdef.js", "gzip");
        Assert.True(stale.Headers.CacheControl!.NoCache);
        Assert.Equal(mainText, Gunzip(await stale.Content.ReadAsByteArrayAsync()));
    }

    static async Task<HttpResponseMessage> GetAsync(HttpClient client, string path, string? acceptEncoding)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, path);
        if (acceptEncoding is not null)
        {
            request.Headers.TryAddWithoutValidation("Accept-Encoding", acceptEncoding);
        }
        var response = await client.SendAsync(request);
        await Http.AssertStatusAsync(response, HttpStatusCode.OK);
        return response;
    }

    static string Gunzip(byte[] compressed)
    {
        using var gzip = new GZipStream(new MemoryStream(compressed), CompressionMode.Decompress);
        using var reader = new StreamReader(gzip, Encoding.UTF8);
        return reader.ReadToEnd();
    }

    [GeneratedRegex(@"widget/main\.[0-9a-f]{16}\.js")]
    private static partial Regex MainFile();
}
