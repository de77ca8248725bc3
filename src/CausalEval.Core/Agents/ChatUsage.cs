using CausalEval.Core.Episodes;

namespace CausalEval.Core.Agents;

/// <summary>
/// A chat response's usage as a trial counts it: one mapping for the LLM agent and the chat pipeline. It takes the counts
/// of Microsoft.Extensions.AI's <c>UsageDetails</c> (its <c>AdditionalCounts</c> is a read-only dictionary), so Core needs
/// no chat library.
/// </summary>
public static class ChatUsage
{
    /// <summary>
    /// The Anthropic SDK's additional-counts key for the input written to the prompt cache (<c>cache_creation_input_tokens</c>;
    /// the SDK also counts it in the input).
    /// </summary>
    public const string CacheWriteCount = "CacheCreationInputTokens";

    /// <summary>Input tokens written to the provider's prompt cache (null when the provider reports none).</summary>
    public static long? CacheWrites(IReadOnlyDictionary<string, long>? additionalCounts) =>
        additionalCounts is not null && additionalCounts.TryGetValue(CacheWriteCount, out var writes) ? writes : null;

    /// <summary>Billed input and output, and the parts of the input read from and written to the provider's prompt cache.</summary>
    public static Usage From(long? inputTokens, long? outputTokens, long? cachedInputTokens, IReadOnlyDictionary<string, long>? additionalCounts) =>
        new(inputTokens ?? 0, outputTokens ?? 0, PromptCacheTokens: cachedInputTokens ?? 0, PromptCacheWriteTokens: CacheWrites(additionalCounts) ?? 0);
}
