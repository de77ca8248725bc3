using System.Collections.Concurrent;
using CausalEval.Core.Agents;
using CausalEval.Models.Batch;
using CausalEval.Models.Middleware;
using CausalEval.Models.Providers;
using CausalEval.Prompts.Agents;
using Microsoft.Extensions.AI;

namespace CausalEval.Runs;

/// <summary>
/// Chat models as agents: the providers' chat clients (CausalEval.Models) played by the LLM agent (CausalEval.Prompts).
/// Composed here, at the top, so that neither of the two depends on the other.
/// </summary>
internal static class ChatModels
{
    /// <summary>
    /// One <see cref="IModelProvider"/> per prefix, each making LLM agents over the same prompt folder and examples.
    /// <paramref name="middleware"/> adds a model's middlewares (response cache, resilience: <see cref="ModelCalls.Configure"/>)
    /// knowing where its calls go; <paramref name="time"/> is the clock of the error classification (Retry-After dates).
    /// </summary>
    public static IReadOnlyList<IModelProvider> Providers(ProviderEnvironment environment, Func<LlmAgentSetup> setup,
        Action<ChatClientBuilder, ChatEndpoint>? middleware = null, TimeProvider? time = null) =>
        [.. ChatProviders.Factories(environment, middleware, time).Select(p => new ChatModelProvider(p.Prefix, setup, p.Create, environment.Batches))];

    /// <summary>
    /// A caller's own chat client as a model named <paramref name="name"/> (settings may follow as for any id:
    /// <c>name?temperature=0.2</c>): the same pipeline — error classification, then <paramref name="middleware"/> (response
    /// cache, resilience, limits) — and the same LLM agent (templates, parsers) as a provider's model.
    /// </summary>
    public static NamedModel Named(string name, IChatClient client, Func<LlmAgentSetup> setup, Action<ChatClientBuilder, ChatEndpoint>? middleware = null,
        TimeProvider? time = null)
    {
        var (model, settings) = ModelSpec.Parse(name, name);
        var chat = ChatProviders.InProcess(client, model, name, middleware, time);
        var shared = new Lazy<LlmAgentSetup>(setup);
        return new NamedModel(name, context => LlmAgent.Factory(chat, shared.Value, settings)(context), TakesPrompts: true);
    }

    /// <summary>Model ids <c>&lt;prefix&gt;/&lt;name&gt;[?settings]</c> played by an LLM agent over a chat client.</summary>
    /// <remarks>In a batch run, the trials of batched models are counted live while they play (the round barrier).</remarks>
    private sealed class ChatModelProvider(string prefix, Func<LlmAgentSetup> setup, Func<string, string, IChatClient> client, BatchRuns? batches)
        : IModelProvider
    {
        private readonly Lazy<LlmAgentSetup> _setup = new(setup);
        private readonly ConcurrentDictionary<string, AgentFactory> _resolved = new(StringComparer.Ordinal);

        public string Prefix => prefix;

        public bool TakesPrompts => true;

        /// <summary>One chat client per model id, however often the id is resolved.</summary>
        public AgentFactory Resolve(string name, string modelId)
        {
            if (_resolved.TryGetValue(modelId, out var known))
            {
                return known;
            }
            // The settings come off the id before the provider sees the name (the openai-compatible base URL has no query).
            var (model, settings) = ModelSpec.Parse(name, modelId);
            var chat = client(model, modelId);
            var factory = LlmAgent.Factory(chat, _setup.Value, settings);
            return _resolved.GetOrAdd(modelId, batches is not null && BatchRuns.Covers(modelId) ? batches.Track(modelId, factory) : factory);
        }
    }
}
