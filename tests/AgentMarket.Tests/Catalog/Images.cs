namespace AgentMarket.Tests.Catalog;

/// <summary>Small real image files for upload tests.</summary>
public static class Images
{
    /// <summary>A valid 1×1 transparent PNG.</summary>
    public static readonly byte[] OnePixelPng = Convert.FromBase64String("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNkYAAAAAYAAjCB0C8AAAAASUVORK5CYII=");

    /// <summary>A valid 1×1 GIF.</summary>
    public static readonly byte[] OnePixelGif = Convert.FromBase64String("R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7");

    /// <summary>A valid 1×1 lossless WebP.</summary>
    public static readonly byte[] OnePixelWebp = Convert.FromBase64String("UklGRhoAAABXRUJQVlA4TA0AAAAvAAAAEAcQERGIiP4HAA==");

    public static MultipartFormDataContent Png() => File(OnePixelPng, "pixel.png", "image/png");

    /// <summary>
    /// A small file of <paramref name="format"/> (png, gif, jpeg, webp) whose header declares <paramref name="width"/> ×
    /// <paramref name="height"/> pixels; the pixel data is not a picture of that size, as in a decompression bomb.
    /// </summary>
    public static byte[] Declaring(string format, int width, int height)
    {
        switch (format)
        {
            case "png":
                var png = OnePixelPng.ToArray();
                System.Buffers.Binary.BinaryPrimitives.WriteInt32BigEndian(png.AsSpan(16), width);
                System.Buffers.Binary.BinaryPrimitives.WriteInt32BigEndian(png.AsSpan(20), height);
                return png;
            case "gif":
                var gif = OnePixelGif.ToArray();
                System.Buffers.Binary.BinaryPrimitives.WriteUInt16LittleEndian(gif.AsSpan(6), checked((ushort)width));
                System.Buffers.Binary.BinaryPrimitives.WriteUInt16LittleEndian(gif.AsSpan(8), checked((ushort)height));
                return gif;
            case "jpeg":
                // SOI, a JFIF APP0 segment, a baseline frame header (SOF0) with three components, EOI.
                byte[] jpeg = [0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x10, .. "JFIF\0"u8, 0x01, 0x01, 0x00, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00,
                    0xFF, 0xC0, 0x00, 0x11, 0x08, 0, 0, 0, 0, 0x03, 0x01, 0x22, 0x00, 0x02, 0x11, 0x01, 0x03, 0x11, 0x01, 0xFF, 0xD9];
                System.Buffers.Binary.BinaryPrimitives.WriteUInt16BigEndian(jpeg.AsSpan(25), checked((ushort)height));
                System.Buffers.Binary.BinaryPrimitives.WriteUInt16BigEndian(jpeg.AsSpan(27), checked((ushort)width));
                return jpeg;
            case "webp":
                // An extended (VP8X) header declaring the canvas, followed by the 1×1 lossless image's chunk.
                var lossless = OnePixelWebp.AsSpan(12);
                var webp = new byte[12 + 18 + lossless.Length];
                "RIFF"u8.CopyTo(webp);
                System.Buffers.Binary.BinaryPrimitives.WriteInt32LittleEndian(webp.AsSpan(4), webp.Length - 8);
                "WEBPVP8X"u8.CopyTo(webp.AsSpan(8));
                webp[16] = 10;
                WriteUInt24(webp.AsSpan(24), width - 1);
                WriteUInt24(webp.AsSpan(27), height - 1);
                lossless.CopyTo(webp.AsSpan(30));
                return webp;
            default:
                throw new ArgumentOutOfRangeException(nameof(format), format, "png, gif, jpeg or webp");
        }
    }

    static void WriteUInt24(Span<byte> to, int value)
    {
        to[0] = (byte)value;
        to[1] = (byte)(value >> 8);
        to[2] = (byte)(value >> 16);
    }

    public static MultipartFormDataContent File(byte[] content, string fileName, string contentType)
    {
        var file = new ByteArrayContent(content);
        file.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue(contentType);
        return new MultipartFormDataContent { { file, "file", fileName } };
    }
}
