using CausalEval.Core.Agents;
using Microsoft.Extensions.AI;

namespace CausalEval.Prompts.Agents;

/// <summary>
/// Which trial a model call belongs to. The LLM agent puts it in <see cref="ChatOptions.AdditionalProperties"/> under
/// <see cref="OptionsKey"/>, so the middlewares of the chat pipeline can see it (the response cache keys on the trial id,
/// epoch and turn); the pipeline removes it before the provider's SDK client, so it is never sent. On the way back a
/// middleware marks <see cref="ChatResponse.AdditionalProperties"/>: <see cref="CachedKey"/> (true: the answer came from
/// the response cache) and <see cref="RetriesKey"/> (how many times the call was retried).
/// </summary>
/// <param name="Turn">The call's index within the trial (0 for the first call).</param>
/// <param name="Meter">The trial's usage meter: middlewares add the billed tokens of attempts that failed.</param>
internal sealed record ChatCall(string TrialId, int Epoch, int Turn, UsageMeter? Meter = null)
{
    public const string OptionsKey = "causaleval.call";
    public const string CachedKey = "causaleval.cached";
    public const string RetriesKey = "causaleval.retries";
    public const string RetryReasonsKey = "causaleval.retry-reasons";

    public static ChatCall? From(ChatOptions? options) =>
        options?.AdditionalProperties is { } properties && properties.TryGetValue(OptionsKey, out var value) ? value as ChatCall : null;

    public static bool IsCached(ChatResponse response) =>
        response.AdditionalProperties is { } properties && properties.TryGetValue(CachedKey, out var value) && value is true;

    /// <summary>Why each retry of the call happened (empty: none).</summary>
    public static IReadOnlyList<string> RetryReasons(ChatResponse response) =>
        response.AdditionalProperties is { } properties && properties.TryGetValue(RetryReasonsKey, out var value) && value is string[] reasons ? reasons : [];

    public static int Retries(ChatResponse response) =>
        response.AdditionalProperties is { } properties && properties.TryGetValue(RetriesKey, out var value) && value is int retries ? retries : 0;
}
