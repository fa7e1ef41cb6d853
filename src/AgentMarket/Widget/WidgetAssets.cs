using System.IO.Compression;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Net.Http.Headers;

namespace AgentMarket.Widget;

/// <summary>One file of the widget, ready to serve: its bytes, compressed with gzip and Brotli once, and its ETag (weak: the encodings differ in bytes, not in meaning).</summary>
public sealed record WidgetAsset(string Path, byte[] Raw, byte[] Gzip, byte[] Brotli, string ETag, string CacheControl)
{
    public static WidgetAsset Create(string path, string text, string cacheControl)
    {
        var raw = Encoding.UTF8.GetBytes(text);
        return new WidgetAsset(path, raw, GzipOf(raw), BrotliOf(raw), $"W/\"{Hash(raw)}\"", cacheControl);
    }

    /// <summary>The first 16 hex digits of the content's SHA-256: the main file's fingerprint and every file's ETag.</summary>
    public static string Hash(byte[] content) => Convert.ToHexStringLower(SHA256.HashData(content))[..16];

    static byte[] GzipOf(byte[] raw)
    {
        using var output = new MemoryStream();
        using (var gzip = new GZipStream(output, CompressionLevel.SmallestSize))
        {
            gzip.Write(raw);
        }
        return output.ToArray();
    }

    static byte[] BrotliOf(byte[] raw)
    {
        var output = new byte[BrotliEncoder.GetMaxCompressedLength(raw.Length)];
        return BrotliEncoder.TryCompress(raw, output, out var written, quality: 11, window: 22) ? output[..written] : raw;
    }
}

/// <summary>
/// The widget's two files, built once at start-up from <c>wwwroot</c> without a build step:
/// <list type="bullet">
/// <item>the loader, <c>/widget.js</c>, the one URL pages embed: tiny, cached for minutes, so a new release reaches
/// every page soon; it imports</item>
/// <item>the main module, <c>/widget/main.{fingerprint}.js</c>: the chat transport (<c>wwwroot/js/chat.js</c>, shared
/// with the marketplace's own chat pages) and the widget's UI (<c>wwwroot/widget/widget.js</c>) in one file, named by
/// its content's hash and cached for a year as immutable.</item>
/// </list>
/// Both are served gzip- or Brotli-compressed as the browser accepts, compressed once here at the highest levels.
/// </summary>
public sealed class WidgetAssets
{
    public const string LoaderPath = "/widget.js";
    const string MainPlaceholder = "__WIDGET_MAIN__";

    public WidgetAssets(IWebHostEnvironment environment)
    {
        var files = environment.WebRootFileProvider;
        var transport = Read(files, "js/chat.js");
        var ui = Read(files, "widget/widget.js");
        // Two ES modules in one: chat.js's exports stay exports, and the UI calls createChat directly.
        var mainText = transport + "\n" + ui;
        var mainPath = $"/widget/main.{WidgetAsset.Hash(Encoding.UTF8.GetBytes(mainText))}.js";
        Main = WidgetAsset.Create(mainPath, mainText, "public, max-age=31536000, immutable");
        Loader = WidgetAsset.Create(LoaderPath, Read(files, "widget/loader.js").Replace(MainPlaceholder, mainPath.TrimStart('/'), StringComparison.Ordinal),
            "public, max-age=300");
    }

    public WidgetAsset Loader { get; }
    public WidgetAsset Main { get; }

    static string Read(Microsoft.Extensions.FileProviders.IFileProvider files, string path)
    {
        var file = files.GetFileInfo(path);
        if (!file.Exists)
        {
            throw new InvalidOperationException($"The widget's wwwroot/{path} is missing.");
        }
        using var reader = new StreamReader(file.CreateReadStream(), Encoding.UTF8);
        return reader.ReadToEnd();
    }

    /// <summary>Writes <paramref name="asset"/> in the best encoding the request accepts, or 304 when the browser has it.</summary>
    public static IResult Serve(HttpContext http, WidgetAsset asset, string? cacheControl = null)
    {
        var headers = http.Response.Headers;
        headers.CacheControl = cacheControl ?? asset.CacheControl;
        headers.Vary = HeaderNames.AcceptEncoding;
        headers.ETag = asset.ETag;
        headers.XContentTypeOptions = "nosniff";
        // The main file is an ES module imported from other sites' pages, which needs CORS; it holds nothing private.
        headers.AccessControlAllowOrigin = "*";
        headers["Cross-Origin-Resource-Policy"] = "cross-origin";
        if (http.Request.Headers.IfNoneMatch.ToString() == asset.ETag)
        {
            return TypedResults.StatusCode(StatusCodes.Status304NotModified);
        }
        var accepted = http.Request.Headers.AcceptEncoding.ToString();
        var (body, encoding) = Accepts(accepted, "br") ? (asset.Brotli, "br") : Accepts(accepted, "gzip") ? (asset.Gzip, "gzip") : (asset.Raw, null);
        if (encoding is not null)
        {
            headers.ContentEncoding = encoding;
        }
        return TypedResults.Bytes(body, "text/javascript; charset=utf-8");
    }

    static bool Accepts(string acceptEncoding, string encoding) =>
        acceptEncoding.Split(',').Select(part => part.Split(';')).Any(part => part[0].Trim().Equals(encoding, StringComparison.OrdinalIgnoreCase)
            && !(part.Length > 1 && part[1].Replace(" ", "", StringComparison.Ordinal) is "q=0" or "q=0.0" or "q=0.00" or "q=0.000"));
}
