using System.Buffers.Binary;

namespace AgentMarket.Catalog.Images;

/// <summary>
/// Reads the pixel size an image declares from its header, without decoding it (no image library restores here): the PNG
/// IHDR chunk, the JPEG start-of-frame segment, the GIF logical screen, and the WebP VP8, VP8L or VP8X chunk.
/// </summary>
public static class ImageDimensions
{
    /// <summary>The declared width and height, or null when the header is missing, truncated or declares no size.</summary>
    public static (int Width, int Height)? Read(ReadOnlySpan<byte> bytes, string contentType)
    {
        (int Width, int Height)? size = contentType switch
        {
            ImageSignature.Png => Png(bytes),
            ImageSignature.Jpeg => Jpeg(bytes),
            ImageSignature.Gif => Gif(bytes),
            ImageSignature.Webp => Webp(bytes),
            _ => null,
        };
        return size is { Width: > 0, Height: > 0 } ? size : null;
    }

    // The signature (8 bytes), then IHDR must be the first chunk: length (4), type (4), width (4), height (4), big-endian.
    static (int, int)? Png(ReadOnlySpan<byte> b)
    {
        if (b.Length < 24 || !b[12..16].SequenceEqual("IHDR"u8))
        {
            return null;
        }
        var width = BinaryPrimitives.ReadUInt32BigEndian(b[16..]);
        var height = BinaryPrimitives.ReadUInt32BigEndian(b[20..]);
        return width > int.MaxValue || height > int.MaxValue ? (int.MaxValue, int.MaxValue) : ((int)width, (int)height);
    }

    // Segments follow the SOI marker until a start-of-frame (SOF0–SOF15 but DHT C4, JPG C8 and DAC CC) gives the size.
    static (int, int)? Jpeg(ReadOnlySpan<byte> b)
    {
        var i = 2;
        while (i + 1 < b.Length)
        {
            if (b[i] != 0xFF)
            {
                return null;
            }
            var marker = b[i + 1];
            if (marker == 0xFF)
            {
                i++; // fill byte
                continue;
            }
            if (marker is 0x01 or (>= 0xD0 and <= 0xD7))
            {
                i += 2; // markers without a length
                continue;
            }
            if (marker is 0xD9 or 0xDA || i + 4 > b.Length)
            {
                return null; // end of image or scan data before any frame header
            }
            var length = BinaryPrimitives.ReadUInt16BigEndian(b[(i + 2)..]);
            if (marker is >= 0xC0 and <= 0xCF and not 0xC4 and not 0xC8 and not 0xCC)
            {
                // Length (2), precision (1), height (2), width (2). A height of 0 (set later by a DNL segment) reads as unknown.
                return i + 9 > b.Length ? null : (BinaryPrimitives.ReadUInt16BigEndian(b[(i + 7)..]), BinaryPrimitives.ReadUInt16BigEndian(b[(i + 5)..]));
            }
            if (length < 2)
            {
                return null;
            }
            i += 2 + length;
        }
        return null;
    }

    // "GIF8xa", then the logical screen width and height, little-endian.
    static (int, int)? Gif(ReadOnlySpan<byte> b) =>
        b.Length < 10 ? null : (BinaryPrimitives.ReadUInt16LittleEndian(b[6..]), BinaryPrimitives.ReadUInt16LittleEndian(b[8..]));

    // "RIFF", size, "WEBP", then the first chunk's type (4) and size (4); its payload starts at 20.
    static (int, int)? Webp(ReadOnlySpan<byte> b)
    {
        if (b.Length < 30)
        {
            return null;
        }
        var chunk = b[12..16];
        if (chunk.SequenceEqual("VP8 "u8))
        {
            // Lossy: a 3-byte frame tag, the start code 9D 01 2A, then 14-bit width and height (2 scaling bits above).
            return b[23] == 0x9D && b[24] == 0x01 && b[25] == 0x2A
                ? (BinaryPrimitives.ReadUInt16LittleEndian(b[26..]) & 0x3FFF, BinaryPrimitives.ReadUInt16LittleEndian(b[28..]) & 0x3FFF)
                : null;
        }
        if (chunk.SequenceEqual("VP8L"u8))
        {
            // Lossless: the signature 0x2F, then width − 1 and height − 1 in 14 bits each.
            if (b[20] != 0x2F)
            {
                return null;
            }
            var bits = BinaryPrimitives.ReadUInt32LittleEndian(b[21..]);
            return ((int)(bits & 0x3FFF) + 1, (int)((bits >> 14) & 0x3FFF) + 1);
        }
        if (chunk.SequenceEqual("VP8X"u8))
        {
            // Extended: flags (1), reserved (3), then canvas width − 1 and height − 1 in 24 bits each.
            return (ReadUInt24(b[24..]) + 1, ReadUInt24(b[27..]) + 1);
        }
        return null;
    }

    static int ReadUInt24(ReadOnlySpan<byte> b) => b[0] | (b[1] << 8) | (b[2] << 16);
}
