namespace CausalEval.Core.Results;

/// <summary>The kinds a failed model call is classified as (a trial's <c>error.kind</c>).</summary>
public static class ErrorKinds
{
    /// <summary>401/403: the key (or Entra ID token) was refused. Not retried.</summary>
    public const string Auth = "auth";

    /// <summary>400/422 and other 4xx: the request was refused as it stands. Not retried.</summary>
    public const string BadRequest = "bad_request";

    /// <summary>404: no such model or deployment. Not retried.</summary>
    public const string NotFound = "not_found";

    /// <summary>The provider's content filter refused the prompt or stopped the answer. Not retried.</summary>
    public const string ContentFilter = "content_filter";

    /// <summary>429 with <c>insufficient_quota</c>: the account is out of credit. Not retried.</summary>
    public const string Quota = "quota";

    /// <summary>429: too many requests. Retried, waiting as long as the server asks.</summary>
    public const string RateLimited = "rate_limited";

    /// <summary>408, or no answer within the per-attempt or overall timeout. Retried (per attempt).</summary>
    public const string Timeout = "timeout";

    /// <summary>5xx. Retried.</summary>
    public const string ServerError = "server_error";

    /// <summary>Connection refused or reset, DNS, TLS… Retried.</summary>
    public const string Network = "network";

    /// <summary>A 2xx answer that could not be read (malformed JSON). Retried.</summary>
    public const string BadResponse = "bad_response";

    /// <summary>The endpoint's circuit breaker is open after repeated failures. Retried once it may close.</summary>
    public const string CircuitOpen = "circuit_open";

    /// <summary>Anything else the provider's client threw. Not retried.</summary>
    public const string Unexpected = "unexpected";

    /// <summary>
    /// Kinds of failure that may go away when the trial is played again later (rate limits, timeouts, 5xx, network
    /// errors, unreadable answers, an open circuit): those the resilience pipeline retries and <c>run --resume DIR
    /// --retry-errors</c> replays. Refusals (auth, bad request, not found, content filter, quota) and an agent's own
    /// exceptions are not.
    /// </summary>
    public static readonly IReadOnlySet<string> Retryable = new HashSet<string>(StringComparer.Ordinal)
    {
        RateLimited, Timeout, ServerError, Network, BadResponse, CircuitOpen,
    };
}
