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
