using System.Net;

namespace AgentMarket.Flows.Net;

/// <summary>
/// Bounds what an untrusted server can make a client read into memory, for callers that read the response themselves
/// (the OpenAI SDK) rather than through <see cref="OutboundGuard.SendAsync"/>: a body fails with
/// <see cref="OutboundRequestException"/> past <see cref="MaxBytes"/>. An event stream (<c>text/event-stream</c>) is read
/// line by line and may run long, so there the cap is on one line, which is what a reader buffers; how much of a stream
/// is kept is its reader's limit (a run's output limit, the model client's cap on tool-call arguments).
/// </summary>
public sealed class ResponseSizeLimit(long maxBytes) : DelegatingHandler
{
    /// <summary>The largest body, or line of an event stream, read.</summary>
    public long MaxBytes { get; } = maxBytes;

    /// <inheritdoc />
    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var response = await base.SendAsync(request, cancellationToken);
        var eventStream = string.Equals(response.Content.Headers.ContentType?.MediaType, "text/event-stream", StringComparison.OrdinalIgnoreCase);
        if (!eventStream && response.Content.Headers.ContentLength > MaxBytes)
        {
            response.Dispose();
            throw new OutboundRequestException(TooLargeMessage(MaxBytes));
        }

        response.Content = new LimitedContent(response.Content, MaxBytes, eventStream);
        return response;
    }

    static string TooLargeMessage(long maxBytes) => $"The response is larger than {maxBytes} bytes.";

    /// <summary>The original content, read through a <see cref="LimitedStream"/>.</summary>
    sealed class LimitedContent : HttpContent
    {
        readonly HttpContent _inner;
        readonly long _maxBytes;
        readonly bool _perLine;

        public LimitedContent(HttpContent inner, long maxBytes, bool perLine)
        {
            _inner = inner;
            _maxBytes = maxBytes;
            _perLine = perLine;
            foreach (var header in inner.Headers)
            {
                Headers.TryAddWithoutValidation(header.Key, header.Value);
            }
        }

        protected override async Task<Stream> CreateContentReadStreamAsync(CancellationToken cancellationToken) =>
            new LimitedStream(await _inner.ReadAsStreamAsync(cancellationToken), _maxBytes, _perLine);

        protected override Task<Stream> CreateContentReadStreamAsync() => CreateContentReadStreamAsync(CancellationToken.None);

        protected override Task SerializeToStreamAsync(Stream stream, TransportContext? context) => SerializeToStreamAsync(stream, context, CancellationToken.None);

        protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context, CancellationToken cancellationToken)
        {
            await using var limited = await CreateContentReadStreamAsync(cancellationToken);
            await limited.CopyToAsync(stream, cancellationToken);
        }

        protected override bool TryComputeLength(out long length)
        {
            length = 0;
            return false;
        }

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                _inner.Dispose();
            }

            base.Dispose(disposing);
        }
    }

    /// <summary>Counts the bytes read (since the last line feed, for an event stream) and throws past the cap.</summary>
    sealed class LimitedStream(Stream inner, long maxBytes, bool perLine) : Stream
    {
        long _counted;

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => throw new NotSupportedException();

        public override long Position
        {
            get => throw new NotSupportedException();
            set => throw new NotSupportedException();
        }

        public override int Read(byte[] buffer, int offset, int count) => Count(buffer.AsSpan(offset, inner.Read(buffer, offset, count)));

        public override int Read(Span<byte> buffer) => Count(buffer[..inner.Read(buffer)]);

        public override async Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            Count(buffer.AsSpan(offset, await inner.ReadAsync(buffer.AsMemory(offset, count), cancellationToken)));

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            var read = await inner.ReadAsync(buffer, cancellationToken);
            return Count(buffer.Span[..read]);
        }

        int Count(ReadOnlySpan<byte> read)
        {
            var firstLineFeed = perLine ? read.IndexOf((byte)'\n') : -1;
            if (firstLineFeed >= 0 && _counted + firstLineFeed <= maxBytes)
            {
                // Lines between the first and the last line feed are shorter than one read.
                _counted = read.Length - read.LastIndexOf((byte)'\n') - 1;
            }
            else
            {
                _counted += firstLineFeed >= 0 ? firstLineFeed : read.Length;
            }

            if (_counted > maxBytes)
            {
                throw new OutboundRequestException(perLine ? $"The response has a line longer than {maxBytes} bytes." : TooLargeMessage(maxBytes));
            }

            return read.Length;
        }

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                inner.Dispose();
            }

            base.Dispose(disposing);
        }

        public override async ValueTask DisposeAsync()
        {
            await inner.DisposeAsync();
            await base.DisposeAsync();
        }
    }
}
