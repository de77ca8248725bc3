using System.Collections.Immutable;
using CausalEval.Core.Agents;
using CausalEval.Core.Episodes;
using CausalEval.Core.Tasks;
using CausalEval.Prompts.FewShot;
using CausalEval.Prompts.Naming;
using CausalEval.Prompts.Parsing;
using CausalEval.Prompts.Templates;
using Microsoft.Extensions.AI;
using Microsoft.SemanticKernel;

namespace CausalEval.Prompts.Agents;

/// <summary>What every LLM agent of a run shares: the prompt folder, the few-shot examples, the clock.</summary>
public sealed record LlmAgentSetup
{
    internal LlmAgentSetup(PromptLibrary prompts, ExpertExamples examples, TimeProvider time)
    {
        Prompts = prompts;
        Examples = examples;
        Time = time;
    }

    /// <summary>The prompt templates and name lists.</summary>
    public PromptLibrary Prompts { get; init; }

    /// <summary>The few-shot examples (expert transcripts from each task's train split), shared by every agent of a run.</summary>
    internal ExpertExamples Examples { get; init; }

    /// <summary>The odd-one-out few-shot examples, shared the same way.</summary>
    internal OddOneOutExamples OddOneOutExamples { get; init; } = new();

    /// <summary>The clock that times each call.</summary>
    public TimeProvider Time { get; init; }

    /// <summary>The causal-DAG few-shot examples' template arguments, by task, naming scheme and examples chosen (read-only once built).</summary>
    internal System.Collections.Concurrent.ConcurrentDictionary<string, IReadOnlyList<Dictionary<string, object?>>> ExampleArguments { get; } = new(StringComparer.Ordinal);

    /// <summary>The split templates' rendered heads, shared by the trials of an episode (<see cref="HeadCache"/>).</summary>
    internal HeadCache Heads { get; } = new();

    /// <summary>The templates of <paramref name="prompts"/>, the examples of each task's train split, the system clock.</summary>
    public static LlmAgentSetup Create(PromptLibrary prompts) => new(prompts, new ExpertExamples(), TimeProvider.System);
}

/// <summary>
/// A chat model playing one episode (DESIGN §1.5): the prompt template renders the episode as the agent may see it, the model
/// answers, the parsers read the answer. One conversation per episode: each step's feedback (an experiment's result, or
/// what was wrong with the answer) and the next question come as the next user message; a passive task is one turn.
/// Each step records the messages new at that step, the raw answer, both readings, usage as the provider billed it,
/// the call's latency, and whether the answer came from the response cache (its tokens then count apart, at no cost).
/// </summary>
public sealed class LlmAgent : IAgent
{
    private static readonly Kernel Kernel = new();

    private readonly IChatClient _client;
    private readonly LlmAgentSetup _setup;
    private readonly ModelSettings _settings;
    private readonly TrialContext _context;
    private readonly List<PromptMessage> _conversation = [];
    // The same conversation as chat messages, kept across steps (the response cache recognises a message it has seen).
    private readonly List<ChatMessage> _messages = [];
    // Split rendering: where each turn's messages start in the conversation; the target the last step showed.
    private readonly List<int> _turnStarts = [];
    private string? _lastTarget;
    private readonly List<string> _answers = [];
    // The trial's memo for the pipeline's middlewares (the response cache keeps each message's key JSON in it).
    private readonly CallMemo _memo = new();
    private PromptTemplateEntry? _template;
    private NameMap? _names;
    private IReadOnlyList<Dictionary<string, object?>> _examples = [];
    // The episode's own template arguments, built at the first step (they do not change within a trial).
    private IReadOnlyDictionary<string, object?>? _episodeArguments;
    // The turns' feedback arguments, built once per turn (each step renders the turn just answered again).
    private readonly PromptArguments.FeedbackMemo _feedback = new();

    // Odd-one-out: the trial view each question showed, so earlier turns re-render as they were sent.
    private readonly List<Core.OddOneOut.OddOneOutView> _shown = [];

    /// <summary>An agent for one trial (<paramref name="context"/>) asking <paramref name="client"/>.</summary>
    public LlmAgent(IChatClient client, LlmAgentSetup setup, ModelSettings settings, TrialContext context)
    {
        _client = client;
        _setup = setup;
        _settings = settings;
        _context = context;
    }

    /// <summary>Makes one agent per trial, all asking <paramref name="client"/> with <paramref name="settings"/>.</summary>
    public static AgentFactory Factory(IChatClient client, LlmAgentSetup setup, ModelSettings settings) =>
        context => new LlmAgent(client, setup, settings, context);

    /// <summary>The task family whose templates an episode uses.</summary>
    internal static string FamilyOf(TrialContext context) =>
        context.Task?.Family ?? context.Episode switch
        {
            Episode { Options.Evidence: null } => TaskDefinition.ExploreExploitFamily,
            Episode => TaskDefinition.PassiveExploitFamily,
            _ => TaskDefinition.OddOneOutFamily,
        };

    /// <inheritdoc/>
    public async ValueTask<AgentDecision> DecideAsync(EpisodeView view, CancellationToken cancellationToken)
    {
        if (_template is null)
        {
            await StartAsync(view).ConfigureAwait(false);
        }
        var template = _template!;
        var names = _names!;
        var fresh = await NewMessagesAsync(view, cancellationToken).ConfigureAwait(false);

        var options = new ChatOptions
        {
            Temperature = _settings.Temperature is { } t ? (float)t : null,
            MaxOutputTokens = _settings.MaxOutputTokens ?? (template.DefaultSetting("max_tokens") is { } m ? (int)m : null),
            Seed = _settings.Seed ?? (_settings.SeedFromTrial ? (long)(_context.Seed & int.MaxValue) : null),
            // For the pipeline's middlewares (the response cache keys on it); never sent to the provider.
            AdditionalProperties = new() { [ChatCall.OptionsKey] = new ChatCall(_context.TrialId, _context.Epoch, _answers.Count, _context.Meter) { Memo = _memo } },
        };
        var start = _setup.Time.GetTimestamp();
        var response = await _client.GetResponseAsync([.. _messages], options, cancellationToken).ConfigureAwait(false);
        var latency = _setup.Time.GetElapsedTime(start);
        var raw = response.Text ?? "";
        _answers.Add(raw);
        // The conversation carries the answer as the template re-renders it (whitespace tidied), so every turn extends the last.
        Append([new PromptMessage("assistant", ChatMarkup.Clean(System.Net.WebUtility.HtmlEncode(raw)))]);
        var usage = response.Usage is { } details
            ? ChatUsage.From(details.InputTokenCount, details.OutputTokenCount, details.CachedInputTokenCount, details.AdditionalCounts)
            : default;
        var cached = ChatCall.IsCached(response.AdditionalProperties);
        _context.Meter?.Add(cached ? usage.AsCached() : usage);

        var decision = new AgentDecision
        {
            RawAnswer = raw, Usage = usage, Messages = fresh, Latency = latency, Cached = cached, Retries = ChatCall.Retries(response.AdditionalProperties),
            RetryReasons = [.. ChatCall.RetryReasons(response.AdditionalProperties)],
        };
        if (view.OddOneOut is not null)
        {
            var move = MoveParser.Parse(raw, names);
            return decision with { Move = move.Strict.Value, ParseError = move.Strict.Error, LenientMove = move.Lenient.Value };
        }
        if (view.Phase == Phase.Structure)
        {
            var edges = AnswerParser.ParseEdges(raw, names);
            return decision with { Edges = edges.Strict.Value, ParseError = edges.Strict.Error, LenientEdges = edges.Lenient.Value };
        }
        var action = AnswerParser.ParseAction(raw, names);
        return decision with { Action = action.Strict.Value, ParseError = action.Strict.Error, LenientAction = action.Lenient.Value };
    }

    private async Task StartAsync(EpisodeView view)
    {
        var family = FamilyOf(_context);
        var variant = _context.PromptVariant ?? PromptLibrary.DefaultVariant;
        _template = _setup.Prompts.Get(family, variant);
        var scheme = _context.Naming ?? NamingSchemes.Default;
        var list = _setup.Prompts.Names(scheme);
        var taskKey = _context.Task?.Id ?? "";
        _names = NamingSchemes.For(scheme, view.Brief.Variables, list, $"{taskKey}/{view.Brief.EpisodeId}");
        if (_template.Config.InputVariables.Any(v => v.Name == "examples") && _context.Episode is Core.OddOneOut.OddOneOutEpisode puzzle)
        {
            var task = _context.Task ?? throw new InvalidOperationException($"{_template.Path}: few-shot examples need the trial's task (its train split)");
            var examples = await _setup.OddOneOutExamples.ForAsync(task, puzzle).ConfigureAwait(false);
            _examples = OddOneOutArguments.Examples(
                [.. examples.Select(e => new ShownPuzzle(e, NamingSchemes.For(scheme, e.Episode.Brief.Variables, list, $"{taskKey}/{e.Episode.Id}")))]);
        }
        else if (_template.Config.InputVariables.Any(v => v.Name == "examples"))
        {
            var task = _context.Task ?? throw new InvalidOperationException($"{_template.Path}: few-shot examples need the trial's task (its train split)");
            var examples = await _setup.Examples.ForAsync(task, _context.Dag).ConfigureAwait(false);
            // Built once per task, naming scheme and choice of examples: an example's arguments depend on nothing else, and
            // building them is a tenth of a call's CPU (the templates only read them).
            _examples = _setup.ExampleArguments.GetOrAdd($"{taskKey}\n{scheme}\n{string.Join("\n", examples.Select(e => e.Episode.Id))}", _ =>
                PromptArguments.Examples(
                    [.. examples.Select(e => new ShownExample(e, NamingSchemes.For(scheme, e.Episode.Brief.Variables, list, $"{taskKey}/{e.Episode.Id}")))]));
        }
    }

    /// <summary>
    /// The messages this step adds to the conversation. A template that splits by turn (<see cref="TurnTemplate"/>) has
    /// its head rendered once and, at each step, only the turn just answered and the new one (every earlier turn too when
    /// the target has just been revealed, the one argument that can change an earlier turn); else, and for a template's
    /// first steps in a process, the whole conversation is rendered and checked to extend the last.
    /// </summary>
    private async Task<ImmutableArray<PromptMessage>> NewMessagesAsync(EpisodeView view, CancellationToken cancellationToken)
    {
        var template = _template!;
        var turn = view.History.Count;
        if (view.OddOneOut is { } trial)
        {
            _shown.Add(trial);
            turn = _shown.Count - 1;
        }
        var split = (template.Template as ITurnTemplated)?.Turns is { Enabled: true } s && _turnStarts.Count == turn ? s : null;
        var targetRevealed = turn > 0 && view.Target != _lastTarget;
        _lastTarget = view.Target;
        var whole = split is null || split.NeedsCheck;
        var arguments = Arguments(view, whole || targetRevealed ? 0 : Math.Max(0, turn - 1));
        var pieces = split is null ? null : RenderSplit(split, arguments, turn, targetRevealed, template.Path);
        ImmutableArray<PromptMessage> fresh;
        if (whole)
        {
            fresh = await RenderWholeAsync(template, arguments, view.Phase, cancellationToken).ConfigureAwait(false);
            if (split is not null)
            {
                if (pieces is { } p && p.Fresh.SequenceEqual(fresh))
                {
                    split.Checked();
                }
                else
                {
                    split.Disable();
                    pieces = null;
                }
            }
        }
        else if (pieces is { } p)
        {
            fresh = p.Fresh;
            Require(fresh, template, view.Phase);
        }
        else
        {
            // A piece did not parse or an answered turn re-rendered differently: the whole rendering decides (and reports).
            split!.Disable();
            fresh = await RenderWholeAsync(template, Arguments(view, 0), view.Phase, cancellationToken).ConfigureAwait(false);
        }
        if (pieces is { } kept)
        {
            _turnStarts.Add(kept.TurnStart);
        }
        Append(fresh);
        return fresh;
    }

    private KernelArguments Arguments(EpisodeView view, int fromTurn) => view.OddOneOut is not null
        ? OddOneOutArguments.Build(view, _shown, _names!, _examples, _answers, fromTurn)
        : PromptArguments.Build(_template!.Family, view, _names!, _examples, _answers, fromTurn,
            _episodeArguments ??= PromptArguments.EpisodeArguments(view, _names!), _feedback);

    /// <summary>The whole conversation rendered; returns the messages it adds, which must extend what was sent before.</summary>
    private async Task<ImmutableArray<PromptMessage>> RenderWholeAsync(PromptTemplateEntry template, KernelArguments arguments, Phase phase,
        CancellationToken cancellationToken)
    {
        var rendered = ChatMarkup.Parse(await template.Template.RenderAsync(Kernel, arguments, cancellationToken).ConfigureAwait(false), template.Path);
        for (var i = 0; i < _conversation.Count; i++)
        {
            if (i >= rendered.Length || rendered[i] != _conversation[i])
            {
                throw new InvalidOperationException(
                    $"{template.Path}: message {i + 1} differs from what the model was sent before; a template may only append to the conversation (each answer as its own assistant message)");
            }
        }
        var fresh = rendered[_conversation.Count..];
        Require(fresh, template, phase);
        return fresh;
    }

    private static void Require(ImmutableArray<PromptMessage> fresh, PromptTemplateEntry template, Phase phase)
    {
        if (fresh.IsEmpty || fresh[^1].Role != "user")
        {
            throw new InvalidOperationException($"{template.Path}: the rendered conversation must end with a user message asking for the {PhaseName(phase)} answer");
        }
    }

    /// <summary>
    /// This step's new messages from the split template: the head (first step), what the turn just answered adds after
    /// what was sent of it, and the new turn; null when a piece is not whole messages or an answered turn changed.
    /// With <paramref name="recheck"/> (the target was just revealed, which changes the arguments of earlier turns) every
    /// earlier turn is rendered again and must be what was sent.
    /// </summary>
    private (ImmutableArray<PromptMessage> Fresh, int TurnStart)? RenderSplit(TurnTemplate split, KernelArguments arguments, int turn, bool recheck, string path)
    {
        var turns = (IReadOnlyList<Dictionary<string, object?>?>)arguments["turns"]!;
        try
        {
            var render = split.Turns(arguments, turns);
            for (var earlier = 0; recheck && earlier < turn - 1; earlier++)
            {
                var (start, end) = (_turnStarts[earlier], _turnStarts[earlier + 1]);
                var again = ChatMarkup.ParsePiece(render.Render(earlier), path);
                if (again.Length != end - start || Enumerable.Range(0, again.Length).Any(i => again[i] != _conversation[start + i]))
                {
                    return null;
                }
            }
            var fresh = ImmutableArray.CreateBuilder<PromptMessage>();
            if (turn == 0)
            {
                fresh.AddRange(Head(split, arguments, path));
            }
            else
            {
                var answered = ChatMarkup.ParsePiece(render.Render(turn - 1), path);
                var start = _turnStarts[turn - 1];
                var sent = _conversation.Count - start;
                if (answered.Length < sent)
                {
                    return null;
                }
                for (var i = 0; i < sent; i++)
                {
                    if (answered[i] != _conversation[start + i])
                    {
                        return null;
                    }
                }
                fresh.AddRange(answered[sent..]);
            }
            var turnStart = _conversation.Count + fresh.Count;
            fresh.AddRange(ChatMarkup.ParsePiece(render.Render(turn), path));
            return (fresh.ToImmutable(), turnStart);
        }
        catch (FormatException)
        {
            return null;
        }
    }

    /// <summary>
    /// The head's messages. A causal-DAG head reads only arguments fixed for the episode (the split is made only when it
    /// names neither the turns nor the phase): the episode's own, its few-shot examples and the names, all set by the
    /// template, the episode, its task and the naming scheme. So the trials of an episode (its epochs, and the models of a
    /// run that share the template) render it once.
    /// </summary>
    private ImmutableArray<PromptMessage> Head(TurnTemplate split, KernelArguments arguments, string path)
    {
        if (_context.Episode is not Episode episode)
        {
            return ChatMarkup.ParsePiece(split.RenderHead(arguments), path);
        }
        var key = new HeadCache.Key(_template!, episode, _context.Task, _context.Naming ?? NamingSchemes.Default);
        return _setup.Heads.GetOrAdd(key, () => ChatMarkup.ParsePiece(split.RenderHead(arguments), path));
    }

    private void Append(IEnumerable<PromptMessage> messages)
    {
        foreach (var message in messages)
        {
            _conversation.Add(message);
            _messages.Add(new ChatMessage(new ChatRole(message.Role), message.Content));
        }
    }

    private static string PhaseName(Phase phase) => phase.ToString().ToLowerInvariant();
}

/// <summary>
/// Rendered heads of split templates (<see cref="TurnTemplate"/>) by template, episode, task and naming scheme, compared by
/// reference (the run's own objects). Trials of an episode are played one after another in plan order, so only recent
/// episodes are kept: past <see cref="Capacity"/> heads the cache starts again (a head dropped is rendered again).
/// </summary>
internal sealed class HeadCache
{
    public const int Capacity = 1024;

    private readonly System.Collections.Concurrent.ConcurrentDictionary<Key, ImmutableArray<PromptMessage>> _heads = new();

    /// <summary>Heads kept now.</summary>
    public int Count => _heads.Count;

    /// <summary>The head kept for <paramref name="key"/>, else <paramref name="render"/>'s (kept unless it throws).</summary>
    public ImmutableArray<PromptMessage> GetOrAdd(Key key, Func<ImmutableArray<PromptMessage>> render)
    {
        if (_heads.TryGetValue(key, out var head))
        {
            return head;
        }
        head = render();
        if (_heads.Count >= Capacity)
        {
            _heads.Clear();
        }
        return _heads.GetOrAdd(key, head);
    }

    /// <summary>What a causal-DAG head depends on; the objects compare by reference.</summary>
    public readonly struct Key(PromptTemplateEntry template, Episode episode, TaskDefinition? task, string naming) : IEquatable<Key>
    {
        private readonly PromptTemplateEntry _template = template;
        private readonly Episode _episode = episode;
        private readonly TaskDefinition? _task = task;
        private readonly string _naming = naming;

        public bool Equals(Key other) => ReferenceEquals(_template, other._template) && ReferenceEquals(_episode, other._episode)
            && ReferenceEquals(_task, other._task) && string.Equals(_naming, other._naming, StringComparison.Ordinal);

        public override bool Equals(object? obj) => obj is Key other && Equals(other);

        public override int GetHashCode() => HashCode.Combine(
            System.Runtime.CompilerServices.RuntimeHelpers.GetHashCode(_template), System.Runtime.CompilerServices.RuntimeHelpers.GetHashCode(_episode),
            _task is null ? 0 : System.Runtime.CompilerServices.RuntimeHelpers.GetHashCode(_task), StringComparer.Ordinal.GetHashCode(_naming));
    }
}
