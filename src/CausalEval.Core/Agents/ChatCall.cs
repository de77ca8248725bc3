namespace CausalEval.Core.Agents;

/// <summary>
/// Which trial a model call belongs to: the contract between the LLM agent, which makes the call, and the middlewares of
/// the chat pipeline, which see it. The agent puts it in the call options' additional properties under
/// <see cref="OptionsKey"/> (the response cache keys on the trial id, epoch and turn); the pipeline removes it before the
/// provider's SDK client, so it is never sent. On the way back a middleware marks the response's additional properties:
/// <see cref="CachedKey"/> (true: the answer came from the response cache), <see cref="RetriesKey"/> (how many times the
/// call was retried) and <see cref="RetryReasonsKey"/> (why). The helpers read those property bags (Microsoft.Extensions.AI's
/// <c>AdditionalPropertiesDictionary</c> is one), so Core needs no chat library.
/// </summary>
/// <param name="TrialId">The trial's id.</param>
/// <param name="Epoch">The trial's epoch.</param>
/// <param name="Turn">The call's index within the trial (0 for the first call).</param>
/// <param name="Meter">The trial's usage meter: middlewares add the billed tokens of attempts that failed.</param>
public sealed record ChatCall(string TrialId, int Epoch, int Turn, UsageMeter? Meter = null)
{
    /// <summary>
    /// The trial's memo, the same object at each of its calls (null: none): where middlewares keep what they worked out
    /// for the trial's earlier calls and can reuse at its next one (the response cache keeps each message's key JSON).
    /// </summary>
    public CallMemo? Memo { get; init; }

    /// <summary>The options' property that holds the call.</summary>
    public const string OptionsKey = "causaleval.call";

    /// <summary>The response's property set to true when the answer came from the response cache.</summary>
    public const string CachedKey = "causaleval.cached";

    /// <summary>The response's property with the number of retries (an <see cref="int"/>).</summary>
    public const string RetriesKey = "causaleval.retries";

    /// <summary>The response's property with why each retry happened (a <see cref="string"/> array).</summary>
    public const string RetryReasonsKey = "causaleval.retry-reasons";

    /// <summary>The call in a request's additional properties, if any.</summary>
    public static ChatCall? From(IReadOnlyDictionary<string, object?>? options) =>
        options is not null && options.TryGetValue(OptionsKey, out var value) ? value as ChatCall : null;

    /// <summary>Whether a response's additional properties mark it as answered from the response cache.</summary>
    public static bool IsCached(IReadOnlyDictionary<string, object?>? response) =>
        response is not null && response.TryGetValue(CachedKey, out var value) && value is true;

    /// <summary>Why each retry of the call happened (empty: none).</summary>
    public static IReadOnlyList<string> RetryReasons(IReadOnlyDictionary<string, object?>? response) =>
        response is not null && response.TryGetValue(RetryReasonsKey, out var value) && value is string[] reasons ? reasons : [];

    /// <summary>How many times the call was retried.</summary>
    public static int Retries(IReadOnlyDictionary<string, object?>? response) =>
        response is not null && response.TryGetValue(RetriesKey, out var value) && value is int retries ? retries : 0;
}

/// <summary>
/// One trial's memo for the chat pipeline's middlewares (<see cref="ChatCall.Memo"/>): each keeps one value under its own
/// key. It lives as long as the trial's agent and goes with it, so nothing is kept per message beyond the trial. A trial has
/// one call in flight at a time, but the memo is safe to use from several threads.
/// </summary>
public sealed class CallMemo
{
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, object> _values = new(StringComparer.Ordinal);

    /// <summary>The value kept under <paramref name="key"/>, made by <paramref name="create"/> the first time.</summary>
    public T GetOrAdd<T>(string key, Func<T> create) where T : class =>
        (T)_values.GetOrAdd(key, static (_, make) => make(), create);
}
