using AgentMarket.Platform.Ui;
using Microsoft.AspNetCore.Http.Features;

namespace AgentMarket.Platform.Errors;

/// <summary>Endpoint metadata raising the request-body cap for endpoints that take uploads.</summary>
public sealed record RequestBodyLimitMetadata(long MaxBytes);

public static class RequestBodyLimitExtensions
{
    public static TBuilder WithRequestBodyLimit<TBuilder>(this TBuilder builder, long maxBytes) where TBuilder : IEndpointConventionBuilder
    {
        builder.WithMetadata(new RequestBodyLimitMetadata(maxBytes));
        return builder;
    }

    /// <summary>Declares that an API endpoint takes files of <paramref name="kind"/>: its body cap follows that kind's current limit.</summary>
    public static TBuilder WithUploadLimit<TBuilder>(this TBuilder builder, UploadKind kind) where TBuilder : IEndpointConventionBuilder
    {
        builder.WithMetadata(new AcceptsUploadsAttribute(kind));
        return builder;
    }
}

/// <summary>
/// Caps request bodies (default <c>Api:MaxRequestBodyBytes</c>, 1 MB) before any handler reads them: a declared length
/// over the cap is refused at once with 413; a chunked body is cut off when it passes the cap. Endpoints that take files
/// are capped by their kind's limit in effect now (<see cref="UploadLimits"/>), others by their declared cap.
/// </summary>
sealed class RequestBodyLimitMiddleware(RequestDelegate next, IConfiguration configuration, UploadLimits uploads)
{
    readonly long _defaultLimit = configuration.GetValue<long?>("Api:MaxRequestBodyBytes") ?? 1024 * 1024;

    public Task InvokeAsync(HttpContext context)
    {
        var endpoint = context.GetEndpoint();
        var limit = uploads.BodyCap(endpoint) ?? endpoint?.Metadata.GetMetadata<RequestBodyLimitMetadata>()?.MaxBytes ?? _defaultLimit;
        if (context.Request.ContentLength > limit)
        {
            throw new BadHttpRequestException("Request body too large.", StatusCodes.Status413PayloadTooLarge);
        }
        if (context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } feature)
        {
            feature.MaxRequestBodySize = limit;
        }
        else if (context.Request.ContentLength is null && context.Request.Body.CanRead)
        {
            context.Request.Body = new LengthLimitedStream(context.Request.Body, limit);
        }
        return next(context);
    }

    sealed class LengthLimitedStream(Stream inner, long limit) : Stream
    {
        long _read;

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => _read; set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count) => Count(inner.Read(buffer, offset, count));

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
            Count(await inner.ReadAsync(buffer, cancellationToken));

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        int Count(int read)
        {
            _read += read;
            return _read > limit ? throw new BadHttpRequestException("Request body too large.", StatusCodes.Status413PayloadTooLarge) : read;
        }

        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
