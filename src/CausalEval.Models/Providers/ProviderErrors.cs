using System.ClientModel;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using CausalEval.Core.Agents;
using CausalEval.Core.Episodes;
using CausalEval.Core.Results;
using Microsoft.Extensions.AI;

namespace CausalEval.Models.Providers;

/// <summary>
/// A model call failed: <see cref="AgentFailureException.Kind"/> classifies it (see <see cref="ErrorKinds"/>),
/// <see cref="Retryable"/> says whether trying again may help, <see cref="RetryAfter"/> is how long the server asked to
/// wait. The message never holds the API key.
/// </summary>
internal sealed class ModelCallException(string kind, string message, bool retryable = false, int? status = null, TimeSpan? retryAfter = null)
    : AgentFailureException(kind, message)
{
    /// <summary>A call may report no more tokens than this (no model reads or writes 100 million tokens in one call).</summary>
    public const long MaxTokensPerCall = 100_000_000;

    public bool Retryable { get; } = retryable;

    public int? Status { get; } = status;

    public TimeSpan? RetryAfter { get; } = retryAfter;
}

/// <summary>
/// The innermost middleware, right above the provider's SDK client. It takes the harness's own call information
/// (<see cref="ChatCall"/>) out of the options, so it is never sent; it turns whatever the SDK throws into a
/// <see cref="ModelCallException"/> classified by HTTP status, the error body's code and the exception type, with the
/// server's <c>retry-after-ms</c> / <c>Retry-After</c> wait; it treats an answer stopped by the content filter as a
/// failure and usage no call can have (negative, or over <see cref="ModelCallException.MaxTokensPerCall"/>) as a
/// <c>bad_response</c>. Every text that leaves it — answers and error messages — has the keys scrubbed
/// (<see cref="KeyRedactor"/>: a careless server may echo one), so no store above it (trials, the response cache, the
/// report) ever sees a key. Tokens the server reported for an attempt that then failed (a filtered answer, a stream cut
/// off or timed out after its usage arrived) go to the trial's meter (<see cref="ChatCall.Meter"/>): they are billed.
/// With <paramref name="streamed"/>, a call is made through the streaming API and its updates joined (Ollama's
/// /api/chat streams NDJSON: a slow local model sends its first bytes at once).
/// </summary>
internal sealed class ProviderErrors(IChatClient inner, KeyRedactor redactor, TimeProvider time, bool streamed = false) : DelegatingChatClient(inner)
{
    public override async Task<ChatResponse> GetResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null,
        CancellationToken cancellationToken = default)
    {
        var call = ChatCall.From(options?.AdditionalProperties);
        var meter = call?.Meter;
        // A batch run's HTTP handler names the request after its call (the call leaves the options here).
        Batch.BatchCall.Current.Value = call;
        ChatResponse response;
        List<ChatResponseUpdate>? updates = null;
        try
        {
            if (streamed)
            {
                updates = [];
                await foreach (var update in base.GetStreamingResponseAsync(messages, WithoutCallInfo(options), cancellationToken).ConfigureAwait(false))
                {
                    updates.Add(update);
                }
                response = updates.ToChatResponse();
            }
            else
            {
                response = await base.GetResponseAsync(messages, WithoutCallInfo(options), cancellationToken).ConfigureAwait(false);
            }
        }
        catch (Exception ex)
        {
            // Cut off (by a fault, a timeout or Ctrl-C) after the server had reported usage: those tokens are billed.
            if (updates is not null && ReportedUsage(updates.SelectMany(u => u.Contents).OfType<UsageContent>().Select(u => u.Details)) is { } partial)
            {
                meter?.AddUnanswered(partial);
            }
            else if (ex is OperationCanceledException)
            {
                // Abandoned (attempt timeout, call timeout or Ctrl-C) before any usage arrived: the server may still bill
                // what it did, and nothing says how much, so the attempt is counted for the user to reconcile.
                meter?.AddUnanswered(new Usage(0, 0, UnmeteredAttempts: 1));
            }
            if (ex is OperationCanceledException && cancellationToken.IsCancellationRequested)
            {
                throw;
            }
            throw Classify(ex, redactor, time);
        }
        var usage = CheckUsage(response.Usage);
        if (response.FinishReason == ChatFinishReason.ContentFilter)
        {
            meter?.AddUnanswered(usage);
            throw new ModelCallException(ErrorKinds.ContentFilter,
                "the provider's content filter stopped the answer (finish_reason content_filter)");
        }
        Scrub(response);
        return response;
    }

    public override async IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(IEnumerable<ChatMessage> messages,
        ChatOptions? options = null, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        await using var updates = base.GetStreamingResponseAsync(messages, WithoutCallInfo(options), cancellationToken).GetAsyncEnumerator(cancellationToken);
        while (true)
        {
            try
            {
                if (!await updates.MoveNextAsync().ConfigureAwait(false))
                {
                    yield break;
                }
            }
            catch (Exception ex) when (!(ex is OperationCanceledException && cancellationToken.IsCancellationRequested))
            {
                throw Classify(ex, redactor, time);
            }
            // Best effort per update: a key split across two updates is caught when the updates are joined (GetResponseAsync).
            foreach (var content in updates.Current.Contents)
            {
                if (content is TextContent text)
                {
                    text.Text = redactor.Scrub(text.Text);
                }
            }
            yield return updates.Current;
        }
    }

    /// <summary>Scrubs keys out of every text of the answer (in place: the response is this call's own).</summary>
    private void Scrub(ChatResponse response)
    {
        if (redactor.IsEmpty)
        {
            return;
        }
        foreach (var message in response.Messages)
        {
            for (var i = 0; i < message.Contents.Count; i++)
            {
                message.Contents[i] = message.Contents[i] switch
                {
                    TextContent text => new TextContent(redactor.Scrub(text.Text)),
                    TextReasoningContent reasoning => new TextReasoningContent(redactor.Scrub(reasoning.Text)),
                    var other => other,
                };
            }
        }
    }

    /// <summary>The usage a response reports, when it is possible; impossible usage is a <c>bad_response</c> (retried).</summary>
    private static Usage CheckUsage(UsageDetails? details)
    {
        if (details is null)
        {
            return default;
        }
        (string Name, long? Value)[] counts =
        [
            ("input_tokens", details.InputTokenCount), ("output_tokens", details.OutputTokenCount), ("total_tokens", details.TotalTokenCount),
            ("cached_input_tokens", details.CachedInputTokenCount), ("cache_creation_input_tokens", ChatUsage.CacheWrites(details.AdditionalCounts)),
        ];
        foreach (var (name, value) in counts)
        {
            if (value is < 0 or > ModelCallException.MaxTokensPerCall)
            {
                throw new ModelCallException(ErrorKinds.BadResponse, string.Create(CultureInfo.InvariantCulture,
                    $"the server reported impossible usage: {name} = {value} (a call has between 0 and {ModelCallException.MaxTokensPerCall:N0})"), retryable: true);
            }
        }
        // Cache reads and writes are parts of the input: more than the input would price tokens nobody sent.
        if ((details.CachedInputTokenCount ?? 0) + (ChatUsage.CacheWrites(details.AdditionalCounts) ?? 0) > (details.InputTokenCount ?? 0))
        {
            throw new ModelCallException(ErrorKinds.BadResponse, string.Create(CultureInfo.InvariantCulture,
                $"the server reported impossible usage: cached_input_tokens = {details.CachedInputTokenCount ?? 0} and cache_creation_input_tokens = {ChatUsage.CacheWrites(details.AdditionalCounts) ?? 0} of input_tokens = {details.InputTokenCount ?? 0}"),
                retryable: true);
        }
        return ChatUsage.From(details.InputTokenCount, details.OutputTokenCount, details.CachedInputTokenCount, details.AdditionalCounts);
    }

    private static Usage? ReportedUsage(IEnumerable<UsageDetails> reports)
    {
        Usage? total = null;
        foreach (var details in reports)
        {
            try
            {
                total = (total ?? default) + CheckUsage(details);
            }
            catch (ModelCallException)
            {
                return null;
            }
        }
        return total;
    }

    /// <summary>The options without the harness's call information (a copy; the caller's options are left alone).</summary>
    private static ChatOptions? WithoutCallInfo(ChatOptions? options)
    {
        if (options?.AdditionalProperties is not { } properties || !properties.ContainsKey(ChatCall.OptionsKey))
        {
            return options;
        }
        var copy = options.Clone();
        copy.AdditionalProperties = new AdditionalPropertiesDictionary(properties.Where(p => p.Key != ChatCall.OptionsKey));
        if (copy.AdditionalProperties.Count == 0)
        {
            copy.AdditionalProperties = null;
        }
        return copy;
    }

    /// <summary>What a provider's exception means for the trial: kind, whether to retry, how long the server asked to wait.</summary>
    public static ModelCallException Classify(Exception ex, KeyRedactor redactor, TimeProvider time)
    {
        if (ex is ModelCallException known)
        {
            return known;
        }
        var message = redactor.Scrub(Describe(ex));
        if (Chain(ex).OfType<ResponseTooLargeException>().FirstOrDefault() is { } large)
        {
            // Not retried: the same request would most likely get the same oversized answer, and be billed again.
            return new ModelCallException(ErrorKinds.BadResponse, $"{large.Message}; raise it with --max-response-bytes or a plan's limits.max_response_bytes");
        }
        switch (ex)
        {
            case ClientResultException result when result.Status > 0:
                {
                    var response = result.GetRawResponse();
                    var (code, type) = ErrorCode(response);
                    return ByStatus(result.Status, code, type, message, RetryAfter(response, time));
                }
            case HttpRequestException { StatusCode: { } status }:
                return ByStatus((int)status, null, null, message, null);
            case TimeoutException:
            case OperationCanceledException: // an SDK's own network timeout (the caller's cancellation never gets here)
                return new ModelCallException(ErrorKinds.Timeout, message, retryable: true);
            case JsonException:
                return new ModelCallException(ErrorKinds.BadResponse, message, retryable: true);
        }
        if (Chain(ex).Any(e => e is HttpRequestException or IOException or SocketException))
        {
            return new ModelCallException(ErrorKinds.Network, message, retryable: true);
        }
        if (Chain(ex).Any(e => e is JsonException || e is FormatException || (e is InvalidOperationException && e.Message.Contains("JSON", StringComparison.OrdinalIgnoreCase))))
        {
            return new ModelCallException(ErrorKinds.BadResponse, message, retryable: true);
        }
        if (Chain(ex).Any(e => e is TimeoutException))
        {
            return new ModelCallException(ErrorKinds.Timeout, message, retryable: true);
        }
        // An SDK that trips over a 2xx body it cannot map (an error object instead of choices, an empty choices array, a
        // missing field): the answer is bad, as a malformed one is, and may be fine on the next try.
        if (ex is ArgumentException or IndexOutOfRangeException or KeyNotFoundException or NullReferenceException or InvalidOperationException or InvalidCastException)
        {
            return new ModelCallException(ErrorKinds.BadResponse, $"the answer could not be read ({message})", retryable: true);
        }
        return new ModelCallException(ErrorKinds.Unexpected, message);
    }

    private static ModelCallException ByStatus(int status, string? code, string? type, string message, TimeSpan? retryAfter)
    {
        var filtered = code is "content_filter" or "content_policy_violation" or "ResponsibleAIPolicyViolation" || type is "content_filter";
        return status switch
        {
            429 when code is "insufficient_quota" || type is "insufficient_quota" => new(ErrorKinds.Quota, message, status: status),
            429 => new(ErrorKinds.RateLimited, message, retryable: true, status, retryAfter),
            408 => new(ErrorKinds.Timeout, message, retryable: true, status, retryAfter),
            401 or 403 => new(ErrorKinds.Auth, message, status: status),
            >= 300 and < 400 => new(ErrorKinds.BadRequest,
                $"the server answered with a redirect (HTTP {status}), which is never followed (it could send the key elsewhere): set the endpoint to where it points ({message})", status: status),
            404 => new(ErrorKinds.NotFound, message, status: status),
            _ when filtered => new(ErrorKinds.ContentFilter, message, status: status),
            >= 500 => new(ErrorKinds.ServerError, message, retryable: true, status, retryAfter),
            _ => new(ErrorKinds.BadRequest, message, status: status),
        };
    }

    /// <summary>The error body's <c>error.code</c> (or its inner error's) and <c>error.type</c>, when it is JSON.</summary>
    private static (string? Code, string? Type) ErrorCode(System.ClientModel.Primitives.PipelineResponse? response)
    {
        try
        {
            if (response?.Content is not { } content || content.ToMemory().IsEmpty)
            {
                return (null, null);
            }
            using var document = JsonDocument.Parse(content.ToMemory());
            if (!document.RootElement.TryGetProperty("error", out var error) || error.ValueKind != JsonValueKind.Object)
            {
                return (null, null);
            }
            string? Text(JsonElement parent, string name) =>
                parent.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;
            var code = Text(error, "code");
            if (error.TryGetProperty("innererror", out var inner) && inner.ValueKind == JsonValueKind.Object
                && Text(inner, "code") is "ResponsibleAIPolicyViolation")
            {
                code = "content_filter";
            }
            return (code, Text(error, "type"));
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException)
        {
            return (null, null);
        }
    }

    /// <summary>How long the server asked to wait: <c>retry-after-ms</c>, <c>x-ms-retry-after-ms</c>, or <c>Retry-After</c> (seconds or a date).</summary>
    public static TimeSpan? RetryAfter(System.ClientModel.Primitives.PipelineResponse? response, TimeProvider time)
    {
        if (response is null)
        {
            return null;
        }
        foreach (var header in new[] { "retry-after-ms", "x-ms-retry-after-ms" })
        {
            if (response.Headers.TryGetValue(header, out var ms)
                && double.TryParse(ms, NumberStyles.Float, CultureInfo.InvariantCulture, out var milliseconds) && milliseconds >= 0)
            {
                return Wait(milliseconds / 1000);
            }
        }
        if (response.Headers.TryGetValue("Retry-After", out var value) && value is not null)
        {
            if (double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var seconds) && seconds >= 0)
            {
                return Wait(seconds);
            }
            if (DateTimeOffset.TryParse(value, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var date))
            {
                return Wait((date - time.GetUtcNow()).TotalSeconds);
            }
        }
        return null;
    }

    /// <summary>
    /// The longest wait a server may ask for. Longer waits (a date years ahead, 10^30 seconds) are clamped to it: no timer
    /// can wait that long, and no call's budget is that large, so the call fails fast as rate-limited either way.
    /// </summary>
    public static readonly TimeSpan MaxRetryAfter = TimeSpan.FromDays(1);

    private static TimeSpan Wait(double seconds) =>
        !(seconds > 0) ? TimeSpan.Zero : seconds >= MaxRetryAfter.TotalSeconds ? MaxRetryAfter : TimeSpan.FromSeconds(seconds);

    private static string Describe(Exception ex)
    {
        // The outermost message, plus the innermost cause when it says something more (e.g. "Connection reset by peer").
        var root = Chain(ex).Last();
        var text = ex.Message.Trim();
        return root != ex && !text.Contains(root.Message.Trim(), StringComparison.Ordinal)
            ? $"{ex.GetType().Name}: {text} ({root.GetType().Name}: {root.Message.Trim()})"
            : $"{ex.GetType().Name}: {text}";
    }

    private static IEnumerable<Exception> Chain(Exception ex)
    {
        for (var e = ex; e is not null; e = e.InnerException)
        {
            yield return e;
        }
    }
}
