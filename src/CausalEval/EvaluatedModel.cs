using CausalEval.Core;
using Microsoft.Extensions.AI;

namespace CausalEval;

/// <summary>
/// A model an evaluation plays: your own <see cref="IChatClient"/> under a name (<see cref="FromChatClient"/>), or a model id
/// the <c>causaleval</c> tool knows (<see cref="FromId"/>: <c>builtin/expert</c>, <c>openai/gpt-4o-mini</c>,
/// <c>ollama/llama3.2:3b</c>, …; see <c>causaleval models</c>).
/// </summary>
public sealed class EvaluatedModel
{
    private EvaluatedModel(string name, IChatClient? client)
    {
        Name = name;
        ChatClient = client;
    }

    /// <summary>The name the trials, <c>run.json</c> and the leaderboard record for this model.</summary>
    public string Name { get; }

    /// <summary>The chat client given to <see cref="FromChatClient"/>; null for a model id.</summary>
    public IChatClient? ChatClient { get; }

    /// <summary>
    /// Your chat client, played as a chat model named <paramref name="name"/>: it gets exactly what the built-in
    /// providers' models get — the prompt templates, the answer parsers, the response cache and the resilience
    /// pipeline (retries, timeouts, circuit breaker) — and the trials record <paramref name="name"/> as the model.
    /// Sampling settings may follow the name as for a model id, e.g. <c>my-model?temperature=0.2&amp;max_tokens=512</c>.
    /// </summary>
    /// <param name="name">The model's name in the results; not empty, no line breaks.</param>
    /// <param name="chatClient">The client; it is shared by every trial of the run, so it must be safe to call concurrently.</param>
    public static EvaluatedModel FromChatClient(string name, IChatClient chatClient)
    {
        ArgumentNullException.ThrowIfNull(chatClient);
        return new EvaluatedModel(Check(name), chatClient);
    }

    /// <summary>A model id, resolved as <c>causaleval run --model</c> does (provider keys come from the environment).</summary>
    /// <param name="id">For example <c>builtin/expert</c> or <c>openai/gpt-4o-mini?temperature=0</c>.</param>
    public static EvaluatedModel FromId(string id) => new(Check(id), null);

    /// <inheritdoc/>
    public override string ToString() => Name;

    private static string Check(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        return name.Length > 0 && !name.Contains('\n', StringComparison.Ordinal) && !name.Contains('\r', StringComparison.Ordinal) && name.Trim() == name
            ? name
            : throw new InputException("Models", name, "a model name must be non-empty, on one line, without surrounding spaces");
    }
}
