using System.Globalization;
using System.Text.Json;
using Anthropic;
using CausalEval.Core;
using CausalEval.Core.Agents;
using Microsoft.Extensions.AI;
using CausalEval.Core.Results;

namespace CausalEval.Models.Providers;

/// <summary>
/// <c>anthropic/&lt;model&gt;</c>: the Messages API through the official Anthropic SDK's <see cref="IChatClient"/>. The SDK
/// puts the system prompt in the request's top-level <c>system</c> field (the API refuses a message with role system),
/// maps <c>stop_reason</c> (<c>refusal</c> → content filter, which <see cref="ProviderErrors"/> fails as
/// <c>content_filter</c>), and reports usage with the prompt-cache reads as cached input and the cache writes as
/// <c>CacheCreationInputTokens</c>. The Messages API requires <c>max_tokens</c>: it is always sent (the model id's, else the
/// prompt template's, else <see cref="AnthropicMaxTokens"/>). It has no temperature or seed: they are not sent, and asking for
/// one in the id is bad input rather than silently ignored.
/// </summary>
public static partial class ChatProviders
{
    /// <summary>The Anthropic API key's variable.</summary>
    public const string AnthropicKey = "ANTHROPIC_API_KEY";
    /// <summary>The variable of another Anthropic endpoint.</summary>
    public const string AnthropicBaseUrl = "ANTHROPIC_BASE_URL";
    /// <summary>Anthropic's endpoint.</summary>
    public const string AnthropicDefaultBaseUrl = "https://api.anthropic.com";

    /// <summary>max_tokens when neither the model id nor the prompt template sets one (the API requires a value).</summary>
    public const int AnthropicMaxTokens = 4096;

    // A property, not a field: the provider table in the other part of this class reads it during its own initialisation.
    private static ProviderInfo AnthropicInfo => new("anthropic", "anthropic/<model>[?max_tokens=N]", "anthropic/claude-sonnet-4-5?max_tokens=1024",
        "Anthropic Messages API (official Anthropic SDK): system prompt in `system`, max_tokens always sent, no temperature or seed",
        [new(AnthropicKey, true, "API key"), new(AnthropicBaseUrl, false, $"another endpoint, e.g. a proxy (default {AnthropicDefaultBaseUrl})")]);

    private static (IChatClient, string) AnthropicMessages(string model, string modelId, ProviderEnvironment environment, KeyRedactor redactor,
        TimeProvider time)
    {
        var key = Require(environment, AnthropicKey, modelId);
        if (modelId.IndexOf('?') is >= 0 and var query
            && modelId[(query + 1)..].Split('&').Select(p => p.Split('=')[0]).FirstOrDefault(k => k is "temperature" or "seed") is { } unsent)
        {
            throw new InputException("--model", modelId, $"the Anthropic Messages API takes no {unsent}; drop it from the id (only max_tokens is a setting here)");
        }
        var baseUrl = Url(environment.Get(AnthropicBaseUrl) ?? AnthropicDefaultBaseUrl, AnthropicBaseUrl, modelId);
        var client = new AnthropicClient(new global::Anthropic.Core.ClientOptions
        {
            ApiKey = key,
            BaseUrl = baseUrl.ToString().TrimEnd('/'),
            // The resilience middleware retries (honouring retry-after on an injectable clock) and times every attempt.
            MaxRetries = 0,
            Timeout = TimeSpan.FromDays(1),
            // No redirects, a capped response, no client timeout: as every provider sends.
            HttpClient = ProviderHttp.Create(environment.MaxResponseBytes),
            Handlers = [new AnthropicErrors(redactor, time)],
        });
        return (new AnthropicUsage(client.AsIChatClient(model, AnthropicMaxTokens)), baseUrl.ToString());
    }
}

/// <summary>
/// Checks the usage counts of the Messages API's own answer before the SDK's sums hide them (its input count adds the
/// cache writes and reads, so a negative one would just lower the input), and hands the cache writes on under
/// <see cref="ChatUsage.CacheWriteCount"/> (where the SDK leaves them out when they are not positive). A count below zero is
/// a <c>bad_response</c>, retried like a malformed answer and never a cost.
/// </summary>
internal sealed class AnthropicUsage(IChatClient inner) : DelegatingChatClient(inner)
{
    public override async Task<ChatResponse> GetResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null,
        CancellationToken cancellationToken = default)
    {
        var response = await base.GetResponseAsync(messages, options, cancellationToken).ConfigureAwait(false);
        if (response.RawRepresentation is global::Anthropic.Models.Messages.Message { Usage: { } usage })
        {
            (string Name, long? Value)[] counts =
            [
                ("input_tokens", usage.InputTokens), ("output_tokens", usage.OutputTokens),
                ("cache_creation_input_tokens", usage.CacheCreationInputTokens), ("cache_read_input_tokens", usage.CacheReadInputTokens),
            ];
            foreach (var (name, value) in counts)
            {
                if (value < 0)
                {
                    throw new ModelCallException(ErrorKinds.BadResponse, string.Create(CultureInfo.InvariantCulture,
                        $"the server reported impossible usage: {name} = {value}"), retryable: true);
                }
            }
            if (response.Usage is { } details)
            {
                (details.AdditionalCounts ??= [])[ChatUsage.CacheWriteCount] = usage.CacheCreationInputTokens ?? 0;
            }
        }
        return response;
    }
}

/// <summary>
/// Classifies the Messages API's error responses before the SDK sees them, because its exceptions drop the headers:
/// the status and <c>error.type</c> give the kind (429 <c>rate_limit_error</c> and 529 <c>overloaded_error</c> retryable,
/// waiting as long as <c>retry-after</c> asks), and the message has the key redacted.
/// </summary>
internal sealed class AnthropicErrors(KeyRedactor redactor, TimeProvider time) : DelegatingHandler
{
    /// <summary>Error bodies are short JSON; more than this is not read.</summary>
    private const int MaxErrorBody = 64 * 1024;

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var response = await base.SendAsync(request, cancellationToken).ConfigureAwait(false);
        if (response.IsSuccessStatusCode)
        {
            return response;
        }
        using (response)
        {
            var status = (int)response.StatusCode;
            var (type, message) = await ErrorBody(response, cancellationToken).ConfigureAwait(false);
            var text = redactor.Scrub(
                string.Create(CultureInfo.InvariantCulture, $"Anthropic API: HTTP {status} {type ?? response.ReasonPhrase}: {message ?? "(no message)"}"));
            throw Classify(status, type, text, RetryAfter(response));
        }
    }

    /// <summary>The kind of a Messages API error, by <c>error.type</c> first, then by HTTP status.</summary>
    public static ModelCallException Classify(int status, string? type, string message, TimeSpan? retryAfter) => (type, status) switch
    {
        ("rate_limit_error", _) or (_, 429) => new(ErrorKinds.RateLimited, message, retryable: true, status, retryAfter),
        ("overloaded_error", _) or (_, 529) => new(ErrorKinds.ServerError, message, retryable: true, status, retryAfter),
        ("authentication_error" or "permission_error", _) or (_, 401 or 403) => new(ErrorKinds.Auth, message, status: status),
        ("not_found_error", _) or (_, 404) => new(ErrorKinds.NotFound, message, status: status),
        ("billing_error", _) or (_, 402) => new(ErrorKinds.Quota, message, status: status),
        ("timeout_error", _) or (_, 408 or 504) => new(ErrorKinds.Timeout, message, retryable: true, status, retryAfter),
        (_, >= 500) => new(ErrorKinds.ServerError, message, retryable: true, status, retryAfter),
        _ => new(ErrorKinds.BadRequest, message, status: status),
    };

    private static async Task<(string? Type, string? Message)> ErrorBody(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        try
        {
            await using var stream = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
            var buffer = new byte[MaxErrorBody];
            var length = 0;
            int read;
            while (length < buffer.Length && (read = await stream.ReadAsync(buffer.AsMemory(length), cancellationToken).ConfigureAwait(false)) > 0)
            {
                length += read;
            }
            using var document = JsonDocument.Parse(buffer.AsMemory(0, length));
            if (document.RootElement.TryGetProperty("error", out var error) && error.ValueKind == JsonValueKind.Object)
            {
                string? Text(string name) => error.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;
                return (Text("type"), Text("message"));
            }
        }
        catch (Exception e) when (e is JsonException or IOException or HttpRequestException)
        {
            // Not the API's JSON error (a proxy's HTML page, a cut body): the status alone classifies it.
        }
        return (null, null);
    }

    /// <summary><c>retry-after-ms</c>, else <c>retry-after</c> in seconds or as an HTTP date; at most <see cref="ProviderErrors.MaxRetryAfter"/>.</summary>
    private TimeSpan? RetryAfter(HttpResponseMessage response)
    {
        if (response.Headers.TryGetValues("retry-after-ms", out var ms)
            && double.TryParse(ms.FirstOrDefault(), NumberStyles.Float, CultureInfo.InvariantCulture, out var milliseconds) && milliseconds >= 0)
        {
            return Clamp(milliseconds / 1000);
        }
        return response.Headers.RetryAfter switch
        {
            { Delta: { } delta } => Clamp(delta.TotalSeconds),
            { Date: { } date } => Clamp((date - time.GetUtcNow()).TotalSeconds),
            _ => null,
        };
    }

    private static TimeSpan Clamp(double seconds) =>
        !(seconds > 0) ? TimeSpan.Zero : seconds >= ProviderErrors.MaxRetryAfter.TotalSeconds ? ProviderErrors.MaxRetryAfter : TimeSpan.FromSeconds(seconds);
}
