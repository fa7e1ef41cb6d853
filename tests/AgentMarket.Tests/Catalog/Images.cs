namespace AgentMarket.Tests.Catalog;

/// <summary>Small real image files for upload tests.</summary>
public static class Images
{
    /// <summary>A valid 1×1 transparent PNG.</summary>
    public static readonly byte[] OnePixelPng = Convert.FromBase64String("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNkYAAAAAYAAjCB0C8AAAAASUVORK5CYII=");

    public static MultipartFormDataContent Png() => File(OnePixelPng, "pixel.png", "image/png");

    public static MultipartFormDataContent File(byte[] content, string fileName, string contentType)
    {
        var file = new ByteArrayContent(content);
        file.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue(contentType);
        return new MultipartFormDataContent { { file, "file", fileName } };
    }
}
