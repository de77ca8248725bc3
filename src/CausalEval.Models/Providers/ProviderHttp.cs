using System.Globalization;
using System.Net;

namespace CausalEval.Models.Providers;

/// <summary>A response body larger than the run allows (<see cref="ProviderHttp.DefaultMaxResponseBytes"/>, <c>max_response_bytes</c>).</summary>
internal sealed class ResponseTooLargeException(long limit)
    : IOException(string.Create(CultureInfo.InvariantCulture, $"the response is larger than the limit of {limit:N0} bytes (max_response_bytes)"))
{
    public long Limit { get; } = limit;
}

/// <summary>
/// The HTTP client every chat provider sends through: no redirects (a redirect could carry the key's request to another
/// address, so every provider refuses to follow one), no client timeout (the resilience middleware times each attempt and
/// the call), and a cap on every response body, enforced while it streams in, so a hostile or broken server cannot fill
/// memory: a body over the cap fails the read with <see cref="ResponseTooLargeException"/> as soon as the cap is passed.
/// </summary>
internal static class ProviderHttp
{
    public const long DefaultMaxResponseBytes = 1L << 20;

    /// <param name="maxResponseBytes">The cap on every response body.</param>
    /// <param name="outer">A handler in front of everything (a batch run's, which parks chat requests), or null.</param>
    public static HttpClient Create(long maxResponseBytes, DelegatingHandler? outer = null)
    {
        HttpMessageHandler handler = new ResponseSizeLimit(maxResponseBytes) { InnerHandler = new SocketsHttpHandler { AllowAutoRedirect = false } };
        if (outer is not null)
        {
            outer.InnerHandler = handler;
            handler = outer;
        }
        return new(handler) { Timeout = Timeout.InfiniteTimeSpan };
    }

    private sealed class ResponseSizeLimit(long limit) : DelegatingHandler
    {
        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            var response = await base.SendAsync(request, cancellationToken).ConfigureAwait(false);
            if (response.Content.Headers.ContentLength is > 0 and var length && length > limit)
            {
                response.Dispose();
                throw new ResponseTooLargeException(limit);
            }
            response.Content = new LimitedContent(response.Content, limit);
            return response;
        }
    }

    private sealed class LimitedContent : HttpContent
    {
        private readonly HttpContent _inner;
        private readonly long _limit;

        public LimitedContent(HttpContent inner, long limit)
        {
            _inner = inner;
            _limit = limit;
            foreach (var header in inner.Headers)
            {
                Headers.TryAddWithoutValidation(header.Key, header.Value);
            }
        }

        protected override async Task<Stream> CreateContentReadStreamAsync(CancellationToken cancellationToken) =>
            new LimitedStream(await _inner.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false), _limit);

        protected override Task<Stream> CreateContentReadStreamAsync() => CreateContentReadStreamAsync(CancellationToken.None);

        protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context, CancellationToken cancellationToken)
        {
            await using var source = await CreateContentReadStreamAsync(cancellationToken).ConfigureAwait(false);
            await source.CopyToAsync(stream, cancellationToken).ConfigureAwait(false);
        }

        protected override Task SerializeToStreamAsync(Stream stream, TransportContext? context) =>
            SerializeToStreamAsync(stream, context, CancellationToken.None);

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

    /// <summary>A read-only stream that fails once more than <c>limit</c> bytes have been read from it.</summary>
    private sealed class LimitedStream(Stream inner, long limit) : Stream
    {
        private long _read;

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => _read; set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count) => Count(inner.Read(buffer, offset, count));

        public override int Read(Span<byte> buffer) => Count(inner.Read(buffer));

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
            Count(await inner.ReadAsync(buffer, cancellationToken).ConfigureAwait(false));

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        private int Count(int n)
        {
            _read += n;
            return _read > limit ? throw new ResponseTooLargeException(limit) : n;
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
    }
}
