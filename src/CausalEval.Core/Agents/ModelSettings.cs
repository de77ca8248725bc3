namespace CausalEval.Core.Agents;

/// <summary>
/// Sampling settings of a model (given with the model id, e.g. <c>openai/gpt-4o-mini?temperature=0.2&amp;max_tokens=512</c>).
/// Null means "not sent": the provider's own default applies.
/// </summary>
/// <param name="Temperature">Default 0 (as deterministic as the provider allows).</param>
/// <param name="MaxOutputTokens">Default: the template's <c>execution_settings.default.max_tokens</c>, else not sent.</param>
/// <param name="Seed">An explicit seed; when null and <paramref name="SeedFromTrial"/>, each trial sends its own derived seed.</param>
/// <param name="SeedFromTrial">Send a seed derived from the trial (reproducible per trial) unless a seed is given; <c>seed=none</c> turns it off.</param>
public sealed record ModelSettings(double? Temperature = 0, int? MaxOutputTokens = null, long? Seed = null, bool SeedFromTrial = true)
{
    /// <summary>Temperature 0, the template's token limit, a seed per trial.</summary>
    public static readonly ModelSettings Default = new();
}
