"""The role-analysis chain: one interface, two implementations.

- OfflineRoleAnalyzer: no LLM. The posting is cleaned and split into sections (posting_text);
  every unit (a list item or a sentence) is weighted by its section, so the duties decide and the
  company blurb, the perks and the equal-opportunity boilerplate barely count. Each label is a
  small, general mechanism:
  * responsibility: cue lexicons for modeling and infrastructure work plus embedding similarity
    to prototype descriptions of both, summed over units with section weights. Clauses that hand
    work to another team ("our platform team owns deployment", "serving belongs to the search
    infrastructure team") or rule it out ("you won't train models") count for the other side,
    and a partner team's name ("ship models with the deployment team") is not a cue at all.
  * domains: cue lexicons per domain with section weights; negated clauses ("this role does not
    involve LLMs") count against; a domain needs evidence in the job's own text: enough of it
    across the posting, or one duty that names it outright (a strong cue, or two different
    ambiguous cues agreeing in a clause about models), or the title naming it with the duties
    backing it. An infrastructure job for "every model at the company" takes its domains from
    the duties alone, not from the example products in its intro.
  * specialization: breadth and focus phrases, how many unrelated domains the duties span (two
    domains that only ever appear in the same duties, like an image and its caption, are one
    problem), how many kinds of problem the duties list (items of a prose enumeration count one
    by one), and (for infrastructure) how much of the ML lifecycle the duties cover.
  * level: scope first: cross-team direction -> staff; graduate and close-mentorship cues ->
    entry (whatever the title calls the job); leading a project and mentoring -> at least
    senior. Otherwise the higher of the title's level word and the years asked for, since years
    are the least a posting accepts ("Senior ... 3+ years" is senior).
  * focus: topic descriptions from corpus/topics.yaml embedded once; posting units embedded and
    matched to them, weighted by section, with the role's responsibility and domains as priors.
- LLMRoleAnalyzer: the labels in structured output through any OpenAI-compatible endpoint, the
  posting delimited as data, evidence verified verbatim, unknown topic ids dropped, and (when
  the posting holds text addressed to AI tools) labels cross-checked against the offline reading.
"""

from __future__ import annotations

import functools
import re
import secrets
import threading
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np
from pydantic import BaseModel, Field

from interviewer.chains.posting_text import FastPattern, Parsed, Prepared, Unit, fold, parse, prepare, verify_phrases
from interviewer.schema import DOMAINS, LEVELS, ROUNDS, EvalSuite, FocusTopic, RoleProfile

PROMPT_NAME = "role_analyzer"

SECTION_WEIGHT = {
    "title": 0.3,
    "header": 0.0,
    "company": 0.15,
    "role": 0.9,
    "duties": 1.0,
    "requirements": 0.5,
    "nice": 0.15,
    "benefits": 0.0,
    "eeo": 0.0,
    "other": 0.5,
}


class RoleAnalyzer(Protocol):
    name: str

    def analyze(self, text: str) -> RoleProfile: ...


# ------------------------------------------------------------------------------------------
# clauses and their polarity

_CLAUSE_SPLIT = re.compile(r"\s*;\s*|\s+[—–]\s+|\s+-\s+|,\s+but\s+|\bbut\s+(?=you\b)|,\s+(?=not\b)|:\s+(?=[a-z])|\s+(?=rather\s+than\b|instead\s+of\b)")

# "you won't train models", "this role does not involve LLMs", "not fitting models": a negation
# that rules work out for the person hired (not any "don't" in a sentence)
_NEG = re.compile(
    r"\b(you|you['’]ll|this\s+role|the\s+role|this\s+job|the\s+job|this\s+position|this\s+team|it)\s+(will\s+not|won['’]?t|wouldn['’]?t|do\s+not|don['’]?t|does\s+not|doesn['’]?t|are\s+not|aren['’]?t|is\s+not|isn['’]?t|never|will\s+never)\b"
    r"|\b(you['’]ll|you\s+will)\s+not\b|\bnot\s+be\s+(\w+ing|the\s+one)\b"
    # the bare form only where the subject is the job ("It doesn't involve", "Doesn't require"):
    # "so budgets don't run out" rules nothing out for the person hired
    r"|(?:^|(?<=\bit\s)|(?<=\bthis\s)|(?<=\bwhich\s)|(?<=\bthat\s)|(?<=\bwork\s)|(?<=\bjob\s)|(?<=\brole\s))"
    r"(does\s+not|doesn['’]?t|won['’]?t|will\s+not|do\s+not|don['’]?t)\s+(involve|include|require|touch|build|train|design|work\s+on|write|run|own|cover)\b(?!\s+out\b)"
    r"|\bnot\s+(\w+ing)\b|\bthere\s+(is|are)\s+no\b|\bwhat\s+you\s+won['’]?t\s+do\b",
    re.I,
)
# "..., not clusters", "rather than one component": the negation covers a short tail only
_NEG_LEAD = re.compile(r"^(and\s+)?not\b|^(rather\s+than|instead\s+of)\b", re.I)
# "you don't need to design recommender models", "no prior ML experience is required"
_NEG_REQ = re.compile(
    r"\b(don['’]?t|do\s+not|doesn['’]?t|won['’]?t|will\s+not)\s+(need|have)\s+to\b|\bno\s+need\s+to\b|\bnot\s+required\b|\bno\b[^.;]{0,40}\brequired\b|"
    r"\bneedn['’]?t\b|\benough\s+to\s+\w+\b[^.;]{0,30}\bnot\s+to\b",
    re.I,
)
# another team owns the work: "our platform team handles deployment", "models are built by X"
_DELEG_PASSIVE = re.compile(
    r"\b(is|are|was|were|get|gets)\s+(owned|built|run|handled|designed|trained|developed|provided|maintained|operated|done|managed)\s+by\b(?!\s+you)",
    re.I,
)
_DELEG_ACTIVE = re.compile(
    r"\b(?P<subj>(?:[A-Z][\w&-]*\s+){0,4}(?:team|teams|group|researchers|scientists|engineers|modelers|modellers|firm|partners?|colleagues|department|org))\b"
    r"(?:\s*\([^)]*\))?(?:,\s*who)?\s+(?:(?:will|continue\s+to|keep|already|still|has|have)\s+)?"
    r"(?P<verb>owns?|builds?|built|building|designs?|designing|trains?|training|runs?|handles?|deploys?|maintains?|operates?|does|do|takes?\s+care\s+of|"
    r"(?:is|are)\s+responsible\s+for)\b",
    re.I,
)
_SELF_SUBJECT = re.compile(r"^(?:our|your|this|the|a|my)\s+team$|^team$|you", re.I)
_HELP_FROM = re.compile(r"\bhelp\s+from\s+(our|the|a)\b", re.I)
# "Serving belongs to the search infrastructure team", "deployment sits with the platform group"
_DELEG_OWNER = re.compile(
    r"\b(belongs?|belonging)\s+to\s+(the|our|a|an|their)\s+([\w&/-]+\s+){0,4}(team|group|org|squad|department)s?\b|"
    r"\b(sits|lives|stays|rests)\s+with\s+(the|our|a|an|their)\s+([\w&/-]+\s+){0,4}(team|group|org|squad|department)s?\b|"
    r"\bis\s+(the|our|a|an|their)\s+([\w&/-]+\s+){0,4}(team|group|org|squad|department)['’]s\s+(job|responsibility|remit|area)\b",
    re.I,
)
_NEG, _NEG_REQ, _DELEG_PASSIVE, _HELP_FROM, _DELEG_OWNER = (FastPattern(x) for x in (_NEG, _NEG_REQ, _DELEG_PASSIVE, _HELP_FROM, _DELEG_OWNER))
# A partner team's name ("ship models with the deployment team", "hand off to the ML platform
# team") names someone else's work: its words are not cues for this job's own work.
_PARTNER_TEAM = re.compile(
    r"\b(with|alongside|to|from|by|for)\s+(the|our|a|an|their|your)\s+(?:[\w&/-]+\s+){1,4}?(team|group|squad|org|department)s?\b",
    re.I,
)
_DELEG_ACTIVE = FastPattern(
    _DELEG_ACTIVE,
    require=("team", "group", "researchers", "scientists", "engineers", "modelers", "modellers", "firm", "partner", "colleagues", "department", "org"),
)


def clauses(text: str) -> list[str]:
    return [c.strip() for c in _CLAUSE_SPLIT.split(text) if c and c.strip()]


def clause_kind(c: str) -> str:
    """pos | neg (ruled out) | negreq (not needed) | deleg (someone else does it)."""
    low = fold(c)
    if _NEG_REQ.search(c, low):
        return "negreq"
    m = _DELEG_ACTIVE.search(c, low)
    if m and not _SELF_SUBJECT.search(m.group("subj").strip()) and not re.search(r"\byou", m.group(0), re.I):
        return "deleg"
    if _DELEG_PASSIVE.search(c, low) or _HELP_FROM.search(c, low) or _DELEG_OWNER.search(c, low):
        return "deleg"
    if _NEG.search(c, low) or (_NEG_LEAD.search(c) and len(c.split()) <= 12):
        return "neg"
    return "pos"


# ------------------------------------------------------------------------------------------
# cue lexicons


def _lex(pairs: list[tuple[str, float]]) -> list[tuple[FastPattern, float]]:
    return [(FastPattern(p), w) for p, w in pairs]


MODELING_CUES = _lex(
    [
        (r"\btrain(s|ed|ing)?\b(?!\s+(pipelines?|orchestration|infrastructure|data|jobs?|clusters?|platform|tables|shards|budget|-ready))", 1.0),
        (r"\bfit(s|ting)?\s+(\w+\s+){0,2}(models?|GLMs?|regressions?|trees|curves)", 1.0),
        (r"feature\s+engineering|engineer(ing)?\s+features|build(ing)?\s+features|features\s+(that|from)\b|feature\s+selection", 1.0),
        (r"\bevaluat(e|es|ed|ing|ion)\b(?!\s+harness)", 0.6),
        (r"\bA/B\s+tests?|\bexperiment(s|al)?\b(?!\s+(platform|tracking|assignment|logging|infrastructure))|experiment\s+design|designing\s+(and\s+\w+\s+)?experiments", 0.9),
        (r"statistic|hypothesis|confidence\s+intervals?|p-values?|causal|significance|holdouts?|geo\s+tests?|randomi[sz]ed", 0.9),
        (r"\bforecast(s|ing)?\b", 0.9),
        (r"\bregression\b|\bclassif(y|ies|ier|iers|ication)\b|\bcalibrat|\belasticity|\bpropensity|\buplift|\bsurvival|lifetime\s+value|\bLTV\b", 0.8),
        (r"\bpredict(s|ing|ion|ions|ive)?\b", 0.5),
        (r"\bestimat(e|es|ing|ion)\b|\bsegment(s|ing|ation)?\b|\bclustering\b|\bdetect(s|ing|ion)?\b|\bextract(s|ing|ion)?\b", 0.5),
        (r"\banaly(s|z)(e|es|is|ing|ed)\b|\banalyses\b|deep\s+dives?", 0.7),
        (r"\blabels?\b|\bannotat", 0.4),
        (r"\bloss(es)?\b|\bobjectives?\b|augmentation", 0.6),
        (r"learning[- ]to[- ]rank|\bGLMs?\b|gradient[- ]boost\w*|tree\s+ensembles|logistic\s+regression|neural\s+(net|network|models?)|two-tower|dual-encoder|"
         r"collaborative\s+filtering|matrix\s+factori[sz]ation|\btime-series\s+models?|transformer\s+(models|encoders)|convolutional", 0.8),
        (r"fine[- ]tun(e|es|ed|ing)|post-training|pre-?training|RLHF|\bLoRA\b", 0.9),
        (r"error\s+analysis|analy[sz]e\s+(where|failures|why)|backtest|cross-validation|time-based\s+validation|held-out|leakage|overfit|\bvalidat(e|ed|ing|ion)\b", 0.6),
        (r"\bNDCG\b|\bAUC\b|\bprecision\b|\brecall\b|\bF1\b|\bRMSE\b|\bMAE\b|log\s+loss|confusion\s+matri|false\s+(accepts|rejects|positives|negatives)", 0.6),
        (r"\bresearch\b|\bscientists?\b|\bscience\b", 0.3),
        (r"\bmodel(ing|ling)\b", 0.5),
        # "build the models that...", "develop ranking models": making models, not systems for them
        (r"\b(build|develop|design|improve|create|prototype)(s|ing)?\s+(?:(?!for\b|to\b|around\b|behind\b|serving\b|infrastructure\b|platforms?\b|systems?\b|pipelines?\b|tooling\b)[\w-]+\s+){0,3}models?\b"
         r"(?!\s+(serving|registry|deployment|infrastructure|platform|store|gateway|runtime|server))", 0.8),
        (r"\bscikit|\bpandas\b|statsmodels|LightGBM|XGBoost|\bSHAP\b|notebooks?\b", 0.4),
        (r"(?-i:\bR\b)(?!&)", 0.4),
        (r"\bPyTorch\b|\bTensorFlow\b|\bJAX\b", 0.3),
        (r"\bmodels?\s+of\b|\bmodels?\s+that\s+(spot|detect|predict|estimate|flag|catch|identify|classify|tell)", 0.6),
        # explicit statements of what the job is
        (r"\bmodel(l)?ing\s+(job|role|work|position)|\bthe\s+work\s+is\s+model|\binto\s+model(l)?ing\b|focus\s+on\s+the\s+models|into\s+data,\s+features,\s+models"
         r"|own\s+(the\s+)?(\w+\s+){0,2}models\s+(end\s+to\s+end|yourself)|build\s+the\s+models\s+and\s+analyses", 2.5),
    ]
)

INFRA_CUES = _lex(
    [
        (r"\bdeploy(s|ed|ing|ment|ments)?\b", 1.0),
        (r"\bserv(e|es|ed|ing)\b(?!\s+as\b)|\binference\b", 1.0),
        (r"\blatenc(y|ies)\b|\bthroughput\b|\bp9\d\b|requests?\s+(per|a)\s+(second|minute)|\bQPS\b|milliseconds", 1.0),
        (r"\bpipelines?\b", 0.8),
        (r"orchestrat|\bAirflow\b|\bDagster\b|\bPrefect\b|\bKubeflow\b|\bdbt\b|\bArgo\b|\bMLflow\b|\bRay\b|\bBeam\b", 0.8),
        (r"Kubernetes|\bK8s\b|\bDocker\b|container", 1.0),
        (r"CI/CD|continuous\s+(integration|deployment|delivery)|Terraform|infrastructure[- ]as[- ]code|\bcloud\b", 0.8),
        (r"\bAPIs?\b|\bgRPC\b|FastAPI|\bREST\b|microservices?|\bbackend\b|\bservices?\b", 0.7),
        (r"registry|versioning|\bcanary\b|roll\s?-?backs?|\broll(ing)?\s+out\b|rollouts?|shadow\s+(deployment|mode|traffic)|champion/challenger|\brelease(s)?\b", 0.9),
        (r"\bmonitor(ing|s|ed)?\b|\balert(s|ing)?\b|dashboards?|observability|telemetry|on[- ]call|\bincidents?\b|\btracing\b|\bdrift\b", 0.8),
        (r"\bscal(e|able|ability|ing)\b|autoscal|capacity\s+planning|\bGPU\s+(fleet|clusters?|generations)|cost\s+per|high[- ]availability|failover|resilien|graceful\s+degradation|chaos", 0.9),
        (r"distributed\s+(systems|training|preprocessing|computing)|sharding|parallelism|high-performance\s+computing|\bHPC\b", 1.0),
        (r"\bKafka\b|\bFlink\b|\bSpark\b|stream(ing)?\s+(processing|aggregates|pipelines|computation|data)|stream\s+processor|real[- ]time\s+features|event\s+pipelines", 0.9),
        (r"feature\s+(store|pipelines?|computation|lookups?|platform)|online\s+features|training[-/ ]serving\s+skew|point-in-time", 1.0),
        (r"training\s+(pipelines?|orchestration|infrastructure|jobs|data\s+generation|-ready)|\bretrain(ing)?\b|batch[- ]scor", 0.9),
        (r"infrastructure|\bplatforms?\b|tooling|\bSDK\b|\bframeworks?\b|\bengine\b|\bgateway\b", 0.6),
        (r"\bONNX\b|TensorRT|\bTriton\b|\bCUDA\b|\bkernels?\b|\bcompil(e|er|ing)\b|quantiz|pruning|\bint8\b|\bfp8\b|\bint4\b|\bvLLM\b|KV-cache|batching|embedded\s+GPU|on-device|firmware", 0.8),
        (r"C\+\+|\bRust\b|\bJava\b|\bKotlin\b|\bScala\b|TypeScript|\bGo\b(?=[,;)]|\s+or\b|\s+and\b)", 0.5),
        (r"production\s+(Python|code|systems|services|engineering)|software\s+engineering|data\s+engineering|systems\s+engineering|\bSRE\b|DevOps|MLOps|\bLinux\b", 0.8),
        (r"\bstorage\b|ingestion|indexing|\bcach(e|es|ing)\b|lineage|dataset\s+(curation|versioning)|data\s+engine|warehouse|\bETL\b|backfills?|data-quality|data\s+quality", 0.7),
        (r"rate\s+limiting|\bretries\b|load\s+balanc|websockets?|\bedge\s+(caches|fleet)\b", 0.6),
        # explicit statements
        (r"engineering[- ]heavy|everything\s+(else\s+)?around\s+(them|the\s+models?)|own\s+the\s+(system|engine|platform)\b|the\s+system(s)?\s+(they|the\s+models?)\s+(live|run)|"
         r"turns?\s+(that|them|it)\s+into\s+a\s+real\s+system|ML\s+infrastructure\s+engineer|infrastructure\s+(role|engineer|team)\b|platform\s+(engineer|engineering)\b", 2.5),
    ]
)

# Prototype descriptions of the two kinds of work, for embedding similarity.
MODELING_PROTOTYPES = (
    "train and evaluate machine learning models on historical data",
    "build features, fit models and compare them against baselines",
    "analyse data, design A/B experiments and estimate effects with statistics",
    "improve model accuracy with better features, labels, loss functions and architectures",
    "forecast demand and predict customer behaviour with regression and classification models",
    "fine-tune models and run offline evaluation and error analysis",
)
INFRA_PROTOTYPES = (
    "build and operate production services that serve model predictions with low latency",
    "build data pipelines and orchestration that feed model training",
    "deploy models with CI/CD, containers and Kubernetes, with versioning and rollback",
    "scale distributed systems and GPU clusters for throughput and cost",
    "monitoring, alerting and on-call for production machine learning systems",
    "build the platform and tooling other teams use to ship their models",
)

# Domain cue lexicons, in two tiers. Strong cues name the domain on their own ("CTR", "lidar",
# "speech recognition"). Weak cues are ambiguous words ("price", "ranking", "documents",
# "camera") that count fully only in a clause that also talks about models or predictions.
_ML_CONTEXT = re.compile(
    r"\b(model\w*|predict\w*|forecast\w*|classif\w*|estimat\w*|scor(e|es|ing)|detect\w*|train\w*|learn\w*|rank(s|ed|ing|er|ers)?|recogni\w*|"
    r"extract\w*|segment\w*|infer\w*|serv(e|es|ing)|embed\w*|algorithm\w*|ML|AI|machine\s+learning|analy[sz]\w*)\b",
    re.I,
)
_ML_CONTEXT = FastPattern(_ML_CONTEXT)
STRONG, WEAK = 1.0, 0.7
WEAK_NO_CONTEXT = 0.25


def _dlex(strong: list[str], weak: list[str]) -> tuple[list[FastPattern], list[FastPattern]]:
    return [FastPattern(p) for p in strong], [FastPattern(p) for p in weak]


DOMAIN_CUES: dict[str, tuple[list[re.Pattern], list[re.Pattern]]] = {
    "recsys": _dlex(
        [
            r"recommender|recommendation\s+(systems?|engines?|models?|services?)|recommend\w*\s+(\w+\s+){0,3}(to|for)\s+(users|customers|listeners|viewers|readers|shoppers|players|members|guests|people|subscribers)",
            r"personali[sz]|learning[- ]to[- ]rank|collaborative\s+filtering|matrix\s+factori|two-tower|candidate\s+(generation|retrieval)|search\s+(relevance|ranking|quality)|query\s+understanding",
            r"\b(home|news|activity|social|for\s+you|main|content)\s+feeds?\b|\bfeed\s+(ranking|rankers?|models?|modeling)|\bNDCG\b|similar\s+items|because\s+you\s+watched|\bre-?rank|nearest\s+neighbou?r|\brelevance\b",
            r"ranking\s+(models?|service|stage|systems?|team)|\b(ranks?|ranking)\s+(results|listings|items|products|posts|content|candidates|profiles)",
        ],
        [r"recommendations?\b", r"\branking\b|\brank(s|ed)?\b|\brankers?\b", r"\bsearch\b|\bqueries\b", r"\bretrieval\b(?![- ]augmented)", r"\bmatch(ing|es)\b|\bdiscovery\b|\bfeeds?\b"],
    ),
    "ads": _dlex(
        [
            r"\bads?\b(?![-‐]hoc)|advertis|\bCTR\b|\bCVR\b|click[- ]through|\bauctions?\b|\bbid(s|ding|der)?\b|budget\s+pacing|\bpacing\b|reserve\s+prices?|floor\s+prices?|\bmediation\b",
            r"\bboosted\s+(listings?|posts?|positions?|placements?|restaurants?|products?|slots?|results?)|\bfeatured\s+(placements?|listings?|slots?)|pay(s|ing)?\s+to\s+(appear|be\s+(shown|featured|promoted)|rank)\b|"
            r"\bpac(e|es|ing)\s+(spend|budgets?|delivery)|\bauto-?bid\w*|retail\s+media",
            r"\bpromoted\b|\bsponsored\b|\bmoneti[sz]ation\b|paid\s+(acquisition|social|search|media|placements?|side)|\bcampaigns?\b|lookalike|\bROAS\b|\bCPA\b|\bCPC\b|\bCPM\b|user\s+acquisition",
            r"(customer|user|player|audience|shopper|member|guest)s?\s+segment|segment(ing|ation)?\s+(of\s+)?(customers|users|players|audiences|shoppers|members)|conversion\s+(prediction|rates?|probabilit\w+|models?)|click\s+(and|or)\s+(purchase|conversion)",
        ],
        [r"\btarget(ing|ed)?\b|\baudiences?\b", r"\battribution\b|\bmarketing\b", r"\bconversions?\b|\bimpressions\b|\bclicks\b"],
    ),
    "nlp": _dlex(
        [
            r"\bNLP\b|natural\s+language|\blanguage\s+(models?|technology|understanding)\b|\bLLMs?\b|large\s+language|\bBERT\b|\bGPT\b|\btokeni[sz]|free-text|\btext\s+(models?|data|classif\w*|extraction|mining|generation|descriptions?|fields?)|hate\s+speech|\btoxic(ity)?\b|\bharassment\b",
            r"named\s+entit|entity\s+extraction|sentiment|summari[sz]ation|machine\s+translation|spelling\s+correction|chatbots?|conversational|retrieval[- ]augmented|\bRAG\b|\bprompts?\b|linguist",
            # a language task on text-like data: "a classifier that routes customer emails"
            r"\b(classif\w*|extract\w*|rout(e|es|ing)|sort(s|ing)?|tag(s|ging)?|categori[sz]\w*|understand\w*|mining|summari[sz]\w*|pars(e|ing)|detect\w*)\b[^.;]{0,60}"
            r"\b(emails?|messages?|tickets?|reviews?|notes|documents?|invoices?|transcripts?|comments?|posts|chats?|conversations?|quer(y|ies)|descriptions?|text|reports|contracts?|articles?|letters)\b"
            r"|\b(emails?|messages?|tickets?|reviews?|notes|documents?|text|reports|transcripts?|contracts?|articles?|letters)\b[^.;]{0,40}\b(classif\w*|extract\w*|categori[sz]\w*)",
        ],
        [r"\btext\b|\bdocuments?\b|\bmessages?\b|\bemails?\b|\breviews\b|\bnotes\b|\btickets?\b|\bwords?\b(?![- ]error)|\bcaptions?\b", r"\btransformers?\b|\bembeddings?\b|\bsemantic\b|\bintents?\b|\blanguages?\b"],
    ),
    "cv": _dlex(
        [
            r"computer\s+vision|\b(image|video|visual|camera)\s+((or|and)\s+[\w-]+\s+)?(classification|segmentation|models?|recognition|understanding|data|representations?|streams?|frames?|feeds?)|\bvision\s+(models?|transformers?|team|stack|systems?)",
            # medical imaging is image work: "head CT", "chest X-ray", "DICOM volumes"
            r"medical\s+imag\w*|\bradiolog\w*|\bX-rays?\b|\bradiograph\w*|mammogra\w*|\bDICOM\b|(?-i:\bCT\b|\bMRI\b)|whole[- ]slide|histopatholog\w*|\bultrasound\b",
            # text read off pictures, frames of video, depth images
            r"on-screen\s+text|scene\s+text|shot[- ](boundary|change|detection)|scene[- ](boundary|change|detection)|video\s+frames?|\bkeyframes?\b|depth\s+(images?|maps?)|"
            r"\b(networks?|models?|CNNs?|classifiers?|learning)\s+(on|for|from|over)\s+([\w-]+\s+){0,2}(images|imagery|photos|videos?|frames)\b|"
            r"\bsegmentation\s+(and|or)\s+classification\b",
            r"object\s+detection|instance\s+segmentation|semantic\s+segmentation|panoptic|\bResNet\b|\bViT\b|\bpixels?\b|bounding\s+box|layout\s+(detection|models?)|(detection|segmentation|tracking)\s+(and|or|&)\s+(detection|segmentation|tracking)",
            r"camera-based|\bimages?\b[^.;]{0,40}\b(detect|classif|segment)\w*|\b(detect|classif|segment)\w*[^.;]{0,40}\bimages?\b",
        ],
        [r"\bimages?\b|\bimagery\b|\bphotos?\b|\bscans?\b|\bscanned\b|\bCNNs?\b|convolutional", r"\bcameras?\b|\bRGB\b|\bdepth\s+camera|hyperspectral|\bdrones?\b", r"\bvideos?\b|\bvisual\b|\bvision\b|\bOCR\b|\bthumbnails?\b|point[- ]clouds?", r"\bdetection\b|\bsegmentation\b(?!\s+(of\s+)?(customers|users|players))"],
    ),
    "autonomy": _dlex(
        [
            r"self-driving|autonomous\s+(vehicles?|driving|miles|trucks?|cars?|systems?|robots?)|\brobotaxis?\b|\bAV\b|\bADAS\b|\blidar\b|\bradar\b|sensor\s+fusion|multi-sensor",
            r"\bdrive\s+logs?\b|\brobots?\b|\brobotic(s)?\b|\bgrasp(ing|\s+(points?|planning|detection|prediction|poses?))\b|\bSLAM\b|(motion|trajectory|trajectories)\s+(prediction|planning|forecasting)|behaviou?r\s+prediction|\bdriving\b|\bautonomy\s+(stack|engineer\w*|team|software|systems?)\b",
            # perception is a robot's or a vehicle's (not a brand's); ROS, grippers, on-robot compute
            r"(?<!brand\s)(?<!customer\s)(?<!public\s)(?<!user\s)\bperception\b(?!\s+of\b)|\bROS\s*2?\b|\bJetson\b|on-(robot|vehicle|board)\b|\bgrippers?\b|\bmanipulat(ion|or)\b|"
            r"\b(detection|tracking|perception|prediction)\b[^.;]{0,40}\b(for|on|in)\s+(our|the)?\s*(vehicles?|cars?|robots?|trucks?|drones?)\b",
        ],
        [r"\bperception\b|\btracking\b|\blocali[sz]ation\b|\bsensors?\b", r"\bvehicles?\b|\bpedestrians?\b|\bsidewalks?\b|\bcyclists?\b|\bdrives\b", r"\bfleet\b|\b(path|route|trajectory)\s+planning\b|\bembedded\b"],
    ),
    "tabular": _dlex(
        [
            r"\bforecast(s|ing|er|ers)?\b|time[- ]series|demand\s+(forecast\w*|planning|prediction|models?)|price\s+elasticity|\belasticit|\bmarkdowns?\b|pricing\s+(models?|optimi\w+)",
            r"\bfraud(ulent|sters?)?\b|\bscams?\b|credit\s+risk|default\s+risk|probability[- ]of[- ]default|\bchurn\b|\bLTV\b|lifetime\s+value|underwrit|delinquen|readmission|no-show|chargebacks?|paid\s+late|pay\s+late|late\s+pay\w*|overdue|past[- ]due",
            r"\btabular\b|structured\s+data|\bpropensity|\bsurvival\b|(claim|loss)[- ](severity|ratios?|cost)|\boccupancy\b|cancell?(ed|ation)s?|risk\s+(scor\w*|models?)|\bETA\b|\bvaluation",
        ],
        [
            r"\bprices?\b|\bpricing\b|\bdemand\b|\bsales\b|\binventory\b|\bstaffing\b|\bcash\b",
            r"(?<!model\s)\brisk\b|\bcredit\b|\bdefaults?\b|\bclaims?\b|\bretention\b|\bloans?\b|\btransactions?\b|\bpayments?\b|\blapse\b|\bpolicyholders?\b|\bEHR\b",
            r"\bGLMs?\b|gradient[- ]boost\w*|\bregression\b|tree\s+ensembles|\bevent\s+data|\bbusiness\s+data",
        ],
    ),
    "speech": _dlex(
        [
            r"(?<!hate\s)(?<!free\s)(?<!toxic\s)\bspeech\b(?!\s+(acts?|polic(y|ies)))|\bASR\b|\bTTS\b|text[- ]to[- ]speech|\bacoustic\b|wake[- ]word|keyword\s+spotting|spectrogram|log-mel|word[- ]error[- ]rate|\bWER\b|\bCTC\b|\btransducer\b",
            r"speaker\s+(identification|recognition|diari[sz]ation|verification)|\bdictation\b|transcri(be|bes|bing|ption|ptions)\b|\bvocoder\b|voice\s+(assistants?|models?|recognition|ordering|interfaces?|commands?|cloning)|\bspoken\b",
        ],
        [r"\baudio\b|\bvoices?\b|\bsound\b|phone\s+calls?|\bcalls\b"],
    ),
}


def domain_hits(clause: str, strong_out: set | None = None) -> dict[str, float]:
    """Per domain, the strength of one clause's cues (strongest cue plus half the rest, capped).
    Domains named by a strong cue are added to `strong_out` when it is given."""
    ml = None
    low = fold(clause)
    out: dict[str, float] = {}
    for d, (strong, weak) in DOMAIN_CUES.items():
        hits = [STRONG for pat in strong if pat.search(clause, low)]
        if hits and strong_out is not None:
            strong_out.add(d)
        wk = [pat for pat in weak if pat.search(clause, low)]
        if wk:
            if ml is None:
                ml = bool(_ML_CONTEXT.search(clause, low))
            hits += [WEAK if ml else WEAK_NO_CONTEXT] * len(wk)
            if ml and len(wk) >= 2 and strong_out is not None:
                # two different ambiguous cues agreeing in a clause about models ("tracking"
                # and "vehicles", "ranking" and "search") name the domain as well as one strong cue
                strong_out.add(d)
        if hits:
            hits.sort(reverse=True)
            out[d] = min(1.5, hits[0] + 0.5 * sum(hits[1:]))
    return out


# "every model at the company", "all of our models", "models across the org": a general platform
_PLATFORM_WIDE = FastPattern(
    r"\b(every|all|any)\s+(of\s+)?(our\s+|the\s+)?(ML\s+|machine\s+learning\s+)?models?\b(?!\s+(change|update|version|release))|"
    r"\bmodels?\s+(across|throughout)\s+the\s+(company|org\w*|business)|\bevery\s+(ML\s+|product\s+|data\s+science\s+)?team['’]?s?\s+models"
)
_TEXT_IN_PICTURES = FastPattern(
    r"on-screen\s+text|scene\s+text|\bOCR\b|text\s+(detection|recognition|regions?)\b|text\s+(in|on|from)\s+(images|photos|video|frames|scans)"
)

# domains that often co-occur in one focused job (a search role uses language models, a robot
# perceives through cameras); they do not make a job broad
DOMAIN_AFFINITY = ({"cv", "autonomy"}, {"recsys", "nlp"}, {"recsys", "ads"}, {"speech", "nlp"})

# specialization phrases
_BROAD = _lex(
    [
        (r"wear(ing)?[\s-]+many[\s-]+hats|many[\s-]+hats", 2.0),
        (r"(rather\s+than|not|instead\s+of|no)\s+(just\s+)?(a\s+|one\s+|any\s+)?(single|one)\s+(model|component|product|problem|area|surface|system)", 2.0),
        (r"wide\s+range|broad\s+(toolkit|range|set|mix)|variety\s+of|many\s+(kinds|different)|several\s+(quite\s+)?(different|kinds)|more\s+than\s+one\s+(kind|area)|different\s+problems?|each\s+with\s+a\s+different", 1.5),
        (r"(several|various|multiple|different|diverse|range\s+of)\s+(\w+\s+){0,2}(problems|projects|use\s+cases|business\s+areas|domains|model\s+types)|problems\s+across\s+the|"
         r"whatever\s+(problems?|the\s+model|comes)|every\s+(quantitative\s+)?question|across\s+the\s+(whole|entire)\s+(business|company|platform|lifecycle|stack)|across\s+all\s+of\s+it|end[- ]to[- ]end\s+(ML\s+)?lifecycle", 1.5),
        (r"general[- ]purpose|whole\s+platform|across\s+(several|many|multiple)\s+(areas|problems|domains)|\brotations?\b|\brotat(e|es|ing)\s+(across|through|between)|client\s+projects|several\s+kinds", 1.2),
        (r"\bgeneralist\b|full[- ]stack", 1.5),
        (r"\bad[- ]hoc\s+(questions|analys[ie]s|requests|projects)", 1.0),
        (r"rather\s+(you\s+)?learn\s+a\s+broad|than\s+go\s+deep", 1.5),
    ]
)
_FOCUSED = _lex(
    [
        (r"\bfocused\s+(role|job|position)|nothing\s+else|deep\s+role|one\s+critical\s+system|not\s+a\s+general|\bspeciali[sz](ed|t)\b|go(ing)?\s+deep\s+on|deep\s+(expertise|experience)\s+in", 2.0),
        (r"\bdedicated\s+to\b|\bsolely\b|\bexclusively\b|\bonly\s+on\b", 1.0),
    ]
)

# kinds of modeling problem: a modeling job whose duties move between three or more of them is
# broad even inside one domain ("forecasts, elasticity and store clustering")
_PROBLEM_FAMILIES: dict[str, FastPattern] = {
    "forecasting": FastPattern(r"\bforecast\w*|\bdemand\b|time[- ]series|\boccupancy\b|\barrivals\b"),
    "pricing": FastPattern(r"\bpric(e|es|ing)\b|elasticit\w*|\bmarkdowns?\b|\bpromotions?\b|\bdiscount(s|ing)?\b"),
    "risk": FastPattern(r"\bfraud\w*|\brisk\b|\bdefaults?\b|\bcredit\b|delinquen\w*|\bscams?\b|\babuse\b|anomal\w+|suspicious|chargebacks?"),
    "customer": FastPattern(r"\bchurn\b|\bretention\b|\blapse\b|lifetime\s+value|\bLTV\b|propensity|cancel\w*|no-show|readmission|\buplift\b"),
    "segmentation": FastPattern(
        r"\bcluster(ing|s)?\b(?!\s+(of\s+)?(gpus?|machines|nodes|servers))|\bsegment(s|ing)?\s+(stores|products|customers|users|players|members|shoppers)|"
        r"(customer|user|player|audience|store|product|member)s?\s+segment\w*"
    ),
    "recsys": FastPattern(r"recommend\w*|\branking\b|\bsearch\b|\bfeeds?\b|personali[sz]\w*"),
    "ads": FastPattern(r"\bads?\b(?![-‐]hoc)|\bCTR\b|\bbid(s|ding)?\b|\bauctions?\b|\bcampaigns?\b|attribution|\btargeting\b"),
    "nlp": FastPattern(r"\btext\b|\blanguage\b|\bNLP\b|\bLLMs?\b|\bdocuments?\b|\bemails?\b|\bmessages\b|\breviews\b|\bentit(y|ies)\b|\bnotes\b"),
    "cv": FastPattern(r"\bimages?\b|\bvision\b|\bdetection\b|\bvideos?\b|\bcameras?\b"),
    "speech": FastPattern(r"\bspeech\b|\baudio\b|\bASR\b|\bvoice\s+(assistants?|recognition|models?|ordering|interfaces?)"),
    "autonomy": FastPattern(r"\brobot\w*|\blidar\b|self-driving|\bsensors?\b"),
}

_ENUM_SPLIT = re.compile(r",\s+(?:and\s+|or\s+)?|;\s+")

# lifecycle stages an infrastructure job may span
_STAGES: dict[str, FastPattern] = {
    "data": FastPattern(
        r"data\s+pipelines?|\b(feature|event|etl|ingestion|streaming|batch|airflow|spark|dbt|data)\s+(pipelines?|jobs)|pipelines?\s+(that|which)\s+(feed|pull|turn|build|produce)|"
        r"feature\s+(pipelines?|stores?|computation)|ingestion|\bETL\b|warehouse|training\s+(data|tables|sets|datasets)|point-in-time|streaming\s+aggregates|dataset\s+(curation|versioning)"
    ),
    "training": FastPattern(
        r"training\s+(orchestration|pipelines?|infrastructure|jobs|clusters?)|orchestrat|retrain|experiment\s+tracking|model\s+registry|distributed\s+training|"
        r"scheduled\s+jobs|\bAirflow\b|\bKubeflow\b|feeds?\s+(both\s+)?training|hyperparameter"
    ),
    "deploy": FastPattern(r"deploy|CI/CD|model\s+registry|model\s+versions?|model\s+versioning|rollout|roll\s+out|canary|rollback|packag"),
    "serving": FastPattern(r"serv(e|ing)|inference|\bAPIs?\b|\bservices?\b|gateway|endpoints?|low[- ]latency|online\s+scoring"),
    "monitoring": FastPattern(r"monitor|alert|dashboards?|observability|drift|telemetry|tracing"),
}

# level cues
_NUM = r"(\d{1,2}|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|fifteen)"
_WORDNUM = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "fifteen": 15}
_YEARS = re.compile(
    rf"(?P<pre>\b(at\s+least|minimum\s+(of\s+)?|more\s+than|over|roughly|about|around|approximately|up\s+to)\s+)?"
    rf"\b(?P<lo>{_NUM})\s*(?:(?P<plus>\+|\s+plus)|\s*(?:[-–—]|to)\s*(?P<hi>{_NUM})\s*\+?)?\s*(?:years?|yrs?)['’]?"
    rf"(?P<post>\s+(of\s+|in\s+|as\s+|(building|working|running|doing)(?=\s+\w)|hands-on|professional|industry|relevant|applied|experience|software|engineering|data|ML|machine)|\s*\))?",
    re.I,
)
_YEARS_NOT_EXPERIENCE = re.compile(r"(next|last|past|first|within\s+the|over\s+the|in\s+the|for\s+the|this)\s+$", re.I)
_DECADE = re.compile(r"\b(a|one|over\s+a|more\s+than\s+a|at\s+least\s+a)\s+decade\s+(of|in)\b", re.I)
_YEARS_FOREIGN = re.compile(rf"\b(?P<lo>{_NUM}|\d{{1,2}})\s*(\+|[-–]\s*\d{{1,2}})?\s*(Jahre|años|ans|anni|anos|jaar|år|lat|vuotta|let)\b", re.I)

_STAFF_SCOPE = _lex(
    [
        # "set the technical direction", "set its evaluation strategy": owning direction, not following it
        (r"\bset(s|ting)?\s+(the\s+|its\s+|our\s+|their\s+|a\s+)?(overall\s+|long[- ]term\s+)?(technical|modeling|modelling|engineering|architectural|research|scientific|evaluation|platform|ML|data)?\s*(direction|strategy|vision)\b", 2.0),
        (r"(direction|strategy|architecture|roadmap|technical\s+leadership|influenc\w*|standards)\b[^.;]{0,80}\bacross\s+(\w+\s+){0,4}(teams|organi[sz]ations?|the\s+org|the\s+company|business\s+units|groups|squads|product\s+(lines|areas))", 2.0),
        (r"\b(organi[sz]ation|org|company)[- ]wide\b|\bcross-team\b|\bmulti-team\b|across\s+(several|multiple|many|all)\s+(\w+\s+)?(teams|squads|groups)|"
         r"\bevery\s+(\w+\s+){0,3}(in|at|across)\s+(the\s+)?(company|organi[sz]ation|org)\b", 1.5),
        # getting other teams' leads to adopt a plan; reviewing every team's designs
        (r"\b(align|get|bring|convince|influence|persuade)\b[^.;]{0,50}\btech(nical)?\s+leads\b|"
         r"\breview(s|ing)?\s+(\w+\s+){0,2}(designs?|architectures?)\s+(from|across|for)\s+(all|every|several|multiple|other)\b", 1.5),
        (r"\bother\s+teams\s+(come|turn|look)\s+to\b|\bhow\s+(several|multiple|many|other)\s+teams\s+work\b", 1.0),
        (r"mentor(ing)?\s+(the\s+)?(senior|lead|staff|team\s+leads|tech\s+leads)", 1.5),
        (r"executive\s+(committee|reviews?|leadership)|\bmulti-year\b|\bVP\b|directors", 0.7),
    ]
)
_SENIOR_SCOPE = _lex(
    [
        (r"\blead(s|ing)?\s+(\w+\s+){0,3}(projects?|efforts|initiatives|workstreams?)|\bled\s+(a|at\s+least\s+one|an?\s+\w+|the)\s+(\w+\s+){0,3}(projects?|efforts)", 1.0),
        (r"\bmentor(s|ing|ed)?\s+(two|three|a\s+few|several|junior|other|engineers|scientists|the\s+team)|\bcoach(es|ing)?\s+(two|three|junior)", 1.0),
        (r"technical\s+lead|tech\s+lead|\bown\s+the\s+(\w+\s+){0,2}roadmap", 0.8),
    ]
)
_ENTRY = _lex(
    [
        (r"new[- ]grad(uate)?s?|recent\s+(graduate|grad|degree|MSc|BSc|PhD|BS|MS)|graduate\s+(programme|program|engineer|scientist|role)|graduating|"
         r"entry[- ]level|early[- ]career|\b(as\s+a|this\s+is\s+a|hiring\s+a|for\s+a)\s+junior\b|\bjunior\s+(role|position)|\binternships?\s+count|finishing\s+this\s+year", 2.0),
        (r"no\s+(prior\s+|industry\s+|professional\s+)?(\w+\s+)?experience\s+(is\s+)?required|learn\s+from\s+(senior|experienced|our\s+(senior|experienced|team|engineers|scientists))|under\s+(close\s+)?guidance|"
         r"close\s+mentorship|dedicated\s+mentor|(senior\s+)?mentor\s+(for|on)\s+(your|each)|paired\s+with\s+a|will\s+coach\s+you|we\s+will\s+teach\s+you|pair\s+with\s+you", 1.5),
    ]
)
_TITLE_LEVEL = (
    ("staff", re.compile(r"\b(staff|principal|distinguished|head\s+of|director)\b", re.I)),
    # "Lead" is a senior title on its own; cross-team scope in the duties makes it staff
    ("senior", re.compile(r"\b(senior|sr\.?|lead)\b", re.I)),
    ("entry", re.compile(r"\b(junior|jr\.?|associate|graduate|new\s+grad|intern|entry|early\s+career|apprentice)\b", re.I)),
    ("mid", re.compile(r"\b(mid-level|intermediate)\b|\b(II)\b", re.I)),
)


# ------------------------------------------------------------------------------------------
# topics and shared embeddings


@functools.lru_cache(maxsize=1)
def topic_vocabulary() -> tuple[dict, ...]:
    from interviewer.bank import topics

    return tuple(topics())


SYSTEMS_TOPICS = frozenset(
    {"model-serving", "feature-stores", "training-pipelines", "multi-stage-ranking", "streaming", "video-delivery", "monitoring", "scaling"}
)
DOMAIN_TOPICS = {
    "recsys": ("recommender-systems", "search-ranking", "multi-stage-ranking", "embeddings"),
    "ads": ("ads-ctr", "calibration", "auctions-bidding", "user-segmentation"),
    "nlp": ("nlp", "transformers", "llms", "embeddings", "rnn"),
    "cv": ("computer-vision", "cnn"),
    "autonomy": ("sensor-fusion", "computer-vision"),
    "tabular": ("forecasting", "fraud-anomaly", "ensembles", "linear-models", "decision-trees"),
    "speech": ("speech", "rnn", "transformers"),
}
# topics that belong to one domain: they need that domain (or strong evidence) to be chosen
TOPIC_DOMAIN = {
    "recommender-systems": "recsys",
    "search-ranking": "recsys",
    "ads-ctr": "ads",
    "auctions-bidding": "ads",
    "user-segmentation": "ads",
    "computer-vision": "cv",
    "cnn": "cv",
    "sensor-fusion": "autonomy",
    "nlp": "nlp",
    "transformers": "nlp",
    "llms": "nlp",
    "speech": "speech",
    "forecasting": "tabular",
    "fraud-anomaly": "tabular",
}


# Cue phrases per topic id (the vocabulary of corpus/topics.yaml): how postings name a topic.
# A unit that names a topic backs it with its section's weight; embedding similarity to the
# topic's description covers the phrasings no list has.
TOPIC_CUES: dict[str, FastPattern] = {
    k: FastPattern(v)
    for k, v in {
        "bias-variance": r"overfit\w*|underfit\w*|bias[- ]variance|generali[sz]ation\s+error",
        "regularization": r"regulari[sz]\w*|\bdropout\b|\blasso\b|\bridge\b|weight\s+decay|early\s+stopping",
        "loss-functions": r"\bloss(es)?\b|\bobjectives?\b|pairwise|listwise|cross-entropy|hinge",
        "optimization": r"gradient\s+descent|\bSGD\b|\bAdam\b|learning\s+rates?|optimi[sz]ers?\b|convergence",
        "evaluation-metrics": r"\bmetrics?\b|\bAUC\b|\bprecision\b|\brecall\b|\bF1\b|\bNDCG\b|\bRMSE\b|\bMAE\b|\baccuracy\b|\bKS\b|confusion\s+matri|false\s+(accepts|rejects|positives|negatives)|\bevaluat\w+|held-out|error\s+rate|error\s+analysis",
        "class-imbalance": r"imbalance\w*|\brare\b|long[- ]tail|\bfew\s+(dozen|hundred)\s+examples|class\s+weights|focal\s+loss|resampl\w*|oversampl\w*|tiny\s+fraction",
        "decision-trees": r"decision\s+trees?|tree-based|\bGini\b|split\s+criteri|\btrees\b",
        "ensembles": r"gradient[- ]boost\w*|boosted\s+trees|\bXGBoost\b|\bLightGBM\b|\bCatBoost\b|random\s+forests?|tree\s+ensembles|\bensembles?\b|\bbagging\b|\bstacking\b",
        "linear-models": r"linear\s+models?|logistic\s+regression|linear\s+regression|\bGLMs?\b|generali[sz]ed\s+linear|\bregression\b",
        "feature-engineering": r"feature\s+engineering|engineer(ing)?\s+features|build(ing)?\s+features|features\s+(from|that)\b|feature\s+selection|\bleakage\b",
        "statistics": r"statistic\w*|hypothesis\s+tests?|confidence\s+intervals?|p-values?|bayesian|probabilit\w+|significance|biostatistic\w*",
        "experiment-design": r"\bA/B\b|\bexperiment(s|ation|al)?\b|holdouts?|geo\s+tests?|randomi[sz]ed|\bcausal\b|guardrail|\buplift\b|online\s+tests?",
        "unsupervised-learning": r"clustering|\bclusters?\s+of|segment(ing)?\s+(stores|products)|anomal(y|ies)\s+detection|\bPCA\b|dimensionality|unsupervised|duplicate|unusual",
        "cross-validation": r"cross-validation|backtest\w*|time-based\s+(validation|splits?)|\bvalidat(e|ed|ion)\b|held-out|leakage",
        "neural-networks": r"neural\s+(networks?|models?)|deep\s+learning|\bPyTorch\b|\bTensorFlow\b|\bMLP\b|backprop\w*",
        "cnn": r"convolutional|\bCNNs?\b|\bResNet\b|conv\s*nets?",
        "rnn": r"\bRNNs?\b|\bLSTMs?\b|\bGRUs?\b|recurrent|sequence\s+models?",
        "transformers": r"\btransformers?\b|\battention\b|\bBERT\b|\bencoders?\b|\bdecoders?\b|\bdecoding\b",
        "embeddings": r"\bembeddings?\b|word2vec|dual-encoder|two-tower|vector\s+(index|search|similarity|database)|semantic\s+(retrieval|search)|representations",
        "llms": r"\bLLMs?\b|large\s+language\s+models?|fine-tun\w+|\bLoRA\b|\bRLHF\b|\bprompts?\b|\bRAG\b|retrieval-augmented|post-training|open-weight|\btokens?\b|language\s+models?",
        "recommender-systems": r"recommend\w*|collaborative\s+filtering|personali[sz]\w*|\bfeeds?\b(?!\s+both)|cold[- ]start|two-tower|matrix\s+factori\w*",
        "search-ranking": r"\bsearch\b|learning[- ]to[- ]rank|\branking\b|\brelevance\b|\bquer(y|ies)\b|\bNDCG\b|lambdarank",
        "ads-ctr": r"\bCTR\b|\bCVR\b|click[- ]through|click\s+(and|or)\s+(purchase|conversion)|conversion\s+(rate|prediction|probabilit\w+)|ad\s+value|\bads?\b(?![-‐]hoc)|advertis\w*",
        "calibration": r"calibrat\w+|\bPlatt\b|isotonic",
        "auctions-bidding": r"\bauctions?\b|\bbid(s|ding|der)?\b|\bpacing\b|reserve\s+prices?|floor\s+prices?|\bbudgets?\b(?!\s+(of|for\s+learning))",
        "user-segmentation": r"segment(s|ing|ation)?\s+(of\s+)?(users|customers|players|audiences|shoppers)|(customer|user|player|audience)\s+segment\w*|\btargeting\b|\btarget\b|lookalike|lifetime\s+value|\bLTV\b|\baudiences?\b|propensity|\bcampaigns?\b",
        "computer-vision": r"\bimages?\b|\bvision\b|\bdetection\b|\bsegmentation\b(?!\s+(of\s+)?(users|customers|players))|video\s+understanding|\bcameras?\b|\bOCR\b|\blayout\b|\bvisual\b",
        "sensor-fusion": r"sensor\s+fusion|\bfus(e|ing)\b|\blidar\b|\bradar\b|multi-sensor|\btracking\b|kalman|locali[sz]ation|depth\s+(data|camera)|sensor\s+(frames|data|calibration)",
        "nlp": r"\bNLP\b|natural\s+language|\btext\b|\bentit(y|ies)\b|\bintents?\b|tokeni[sz]\w*|TF-IDF|sentiment|translation|query\s+understanding|spelling|\blanguages?\b|free-text|\bnotes\b|\bemails?\b|\bmessages\b|\breviews\b",
        "speech": r"\bspeech\b|\bASR\b|\baudio\b|\bacoustic\b|keyword\s+spotting|wake[- ]word|spectrogram|\bTTS\b|\bCTC\b|transcri\w+|\bvoice\b",
        "forecasting": r"forecast\w*|time[- ]series|\bdemand\b|\bpricing\b|\bprices?\b|elasticity|occupancy|\bETA\b",
        "fraud-anomaly": r"\bfraud\w*|\brisk\b|\bscams?\b|\babuse\b|anomal\w+|\bdefaults?\b|delinquen\w*|suspicious|chargeback|\bunusual\b",
        "model-serving": r"\bserv(e|es|ed|ing)\b|\binference\b|\blatency\b|\bAPIs?\b|\bdeploy\w*|real[- ]time|online\s+scoring|throughput|endpoints?|scoring\s+service|\bp99\b|\bcanary\b|roll\s?backs?",
        "feature-stores": r"feature\s+(stores?|pipelines?|lookups?|computation)|online\s+features|training[-/ ]serving\s+skew|point-in-time|\bETL\b|data\s+pipelines?|\bdbt\b|event\s+pipelines",
        "training-pipelines": r"training\s+(pipelines?|orchestration|data|jobs)|orchestrat\w+|retrain\w*|distributed\s+(training|preprocessing)|Kubernetes|\bMLOps\b|model\s+registry|CI/CD|experiment\s+tracking|\bAirflow\b|\bKubeflow\b|dataset\s+(curation|versioning)|training-ready",
        "multi-stage-ranking": r"candidate\s+(generation|retrieval)|\bretrieval\b(?![- ]augmented)|\bre-?rank\w*|nearest\s+neighbou?r|\bANN\b|multi-stage|funnel|ranking\s+service",
        "streaming": r"\bstreaming\b|\bKafka\b|\bFlink\b|real[- ]time\s+(features|pipelines|aggregates)|streaming\s+aggregates|event\s+(pipelines|processing|streams)|stream\s+processor|near\s+real\s+time",
        "video-delivery": r"\bCDN\b|content\s+delivery|edge\s+cach\w*|\bbitrate|prefetch\w*|video\s+streaming|origin\s+shield",
        "monitoring": r"\bmonitor\w*|\bdrift\b|\balert\w*|dashboards?|observability|telemetry|data[- ]quality|model\s+health|incident",
        "scaling": r"\bscal(e|es|ing|ability|able)\b|autoscal\w*|quantiz\w*|\bpruning\b|distillation|compress\w*|cost\s+per|capacity\s+planning|\bGPU\s+(fleet|generations|clusters?)|parallelism|TensorRT|high-performance|exabyte|petabytes?|int8|fp8|int4",
    }.items()
}


@dataclass
class _Anchors:
    topic_ids: list[str]
    topic_titles: dict[str, str]
    topic_vecs: np.ndarray
    topic_keys: list[list[str]]  # key phrases from each description
    model_vecs: np.ndarray
    infra_vecs: np.ndarray


_anchor_lock = threading.Lock()
_anchors: dict[int, _Anchors] = {}


def _anchors_for(embedder) -> _Anchors:
    key = id(embedder)
    with _anchor_lock:
        if key in _anchors:
            return _anchors[key]
    vocab = topic_vocabulary()
    ids = [t["id"] for t in vocab]
    texts = [f"{t['title']}: {t['description']}" for t in vocab]
    allt = texts + list(MODELING_PROTOTYPES) + list(INFRA_PROTOTYPES)
    from interviewer.embedding import encode_cached

    vecs = encode_cached(embedder, allt, "role-anchors")
    n, m, i = len(texts), len(MODELING_PROTOTYPES), len(INFRA_PROTOTYPES)
    keys = []
    for t in vocab:
        phrases = [p.strip().lower() for p in re.split(r",|\band\b", t["description"]) if len(p.strip()) >= 3]
        keys.append(phrases)
    a = _Anchors(
        topic_ids=ids,
        topic_titles={t["id"]: t["title"] for t in vocab},
        topic_vecs=vecs[:n],
        topic_keys=keys,
        model_vecs=vecs[n : n + m],
        infra_vecs=vecs[n + m : n + m + i],
    )
    with _anchor_lock:
        _anchors[key] = a
    return a


# ------------------------------------------------------------------------------------------
# offline


@dataclass
class OfflineParams:
    """The analyzer's few global constants (set on the eval suite as a whole, never per case)."""

    deleg_factor: float = 1.2  # weight of a clause that hands work to another team
    neg_factor: float = 1.0  # weight of a clause that rules work out
    emb_weight: float = 6.0  # embedding margin (infra minus modeling similarity) per unit
    resp_bias: float = 0.0  # > 0 leans to modeling on a tie
    domain_threshold: float = 1.5
    domain_rel: float = 0.25  # and at least this share of the strongest domain
    deleg_domain: float = 0.7  # a domain named in work handed to another team
    domain_anchor_threshold: float = 0.9  # enough when a duty names the domain outright
    domain_anchor_rel: float = 0.15
    max_units: int = 400  # units read at all (a posting is already cut to a token budget)
    max_embed: int = 24  # units embedded (duties first): bounds the time on long postings
    embed_words: int = 16  # words of a unit that are embedded
    embed_budget: int = 250  # words embedded in all (about 350 tokens)
    focus_max: int = 6
    focus_min: int = 3
    focus_rel: float = 0.3  # beyond focus_min, a topic needs this share of the top topic's score
    focus_lex: float = 0.3  # a unit naming a topic counts like this much similarity above the floor
    focus_sim_floor: float = 0.3


@dataclass
class Analysis:
    """The offline reading with the numbers behind it (for `--json` rationale and tuning)."""

    profile: RoleProfile
    features: dict = field(default_factory=dict)


class OfflineRoleAnalyzer:
    name = "offline"

    def __init__(self, embedder=None, params: OfflineParams | None = None):
        self._embedder = embedder
        self.params = params or OfflineParams()

    @property
    def embedder(self):
        if self._embedder is None:
            from interviewer.embedding import get_embedder

            self._embedder = get_embedder()
        return self._embedder

    def warm(self) -> None:
        _anchors_for(self.embedder)

    def analyze(self, text: str) -> RoleProfile:
        return self.analyze_detailed(text).profile

    def analyze_prepared(self, prep: Prepared) -> Analysis:
        parsed = parse(prep.text, prep.page_title, prep.title_hint)
        return self._analyze(prep, parsed)

    def analyze_detailed(self, text: str) -> Analysis:
        return self.analyze_prepared(prepare(text))

    # -- the pieces ---------------------------------------------------------------------
    def _analyze(self, prep: Prepared, parsed: Parsed) -> Analysis:
        p = self.params
        anchors = _anchors_for(self.embedder)
        units = [u for u in parsed.units if SECTION_WEIGHT.get(u.section, 0) > 0][: p.max_units]
        title_unit = Unit(text=parsed.title, section="title", block=-1, bullet=False) if parsed.title else None
        # Embedding is the expensive step: embed the units that matter most (duties, then the
        # role, then requirements), each cut to its first words, at most max_embed of them.
        # Units left out keep a zero vector, which adds nothing to any similarity.
        vecs = np.zeros((len(units), 384), dtype=np.float32)
        order = sorted(range(len(units)), key=lambda i: -SECTION_WEIGHT.get(units[i].section, 0))
        emb_idx, texts, budget = [], [], p.embed_budget
        for i in order[: p.max_embed]:
            if SECTION_WEIGHT.get(units[i].section, 0) < 0.3 or budget <= 0:
                break
            words = units[i].text.split()[: p.embed_words]
            emb_idx.append(i)
            texts.append(" ".join(words))
            budget -= len(words)
        if emb_idx:
            vecs[emb_idx] = self.embedder.encode(texts)
        weights = np.array([SECTION_WEIGHT.get(u.section, 0.0) for u in units], dtype=np.float32)
        kinds = [[clause_kind(c) for c in clauses(u.text)] for u in units]
        feats: dict = {}
        rationale: list[str] = []

        resp, rfeats, r_evidence = self._responsibility(units, kinds, vecs, weights, anchors, title_unit)
        feats.update(rfeats)
        domains, dfeats, d_evidence = self._domains(units, kinds, weights, parsed.title, resp)
        feats.update(dfeats)
        level, lfeats, l_reason = self._level(units, parsed)
        feats.update(lfeats)
        spec, sfeats = self._specialization(units, kinds, weights, domains, resp, dfeats)
        feats.update(sfeats)
        focus = self._focus(units, kinds, vecs, weights, anchors, resp, domains)

        rationale.append(
            f"responsibility {resp}: infrastructure cues {rfeats['infra_lex']:.1f} vs modeling cues {rfeats['model_lex']:.1f}"
            f" (embedding margin {rfeats['emb']:+.2f})" + (f"; who does what: {r_evidence!r}" if r_evidence else "")
        )
        if domains:
            rationale.append("domains " + ", ".join(f"{d} ({d_evidence.get(d, '')!r})" for d in domains))
        else:
            rationale.append("no application domain: the duties name none (or serve every model)")
        rationale.append(f"level {level}: {l_reason}")
        rationale.append(f"specialization {spec}: " + sfeats.get("spec_reason", ""))
        profile = RoleProfile(
            title=parsed.title,
            company=parsed.company,
            responsibility=resp,
            specialization=spec,
            domains=domains,
            level=level,
            focus=focus,
            rounds=round_weights(resp, level, spec),
            rationale=rationale,
            notices=list(prep.notices),
            analyzer="offline",
        )
        return Analysis(profile=profile, features=feats)

    # responsibility -----------------------------------------------------------------------
    def _responsibility(self, units, kinds, vecs, weights, anchors, title_unit):
        p = self.params
        model_lex = infra_lex = 0.0
        best_ev: tuple[float, str] = (0.0, "")
        for u, ks, w in zip(units, kinds, weights):
            for c, k in zip(clauses(u.text), ks):
                if k == "pos" and ("team" in c or "group" in c or "squad" in c or " org" in c or "department" in c):
                    c = _PARTNER_TEAM.sub(" ", c)
                lc = fold(c)
                m = sum(wt for pat, wt in MODELING_CUES if pat.search(c, lc))
                i = sum(wt for pat, wt in INFRA_CUES if pat.search(c, lc))
                if k == "pos":
                    model_lex += w * m
                    infra_lex += w * i
                else:
                    f = p.deleg_factor if k == "deleg" else p.neg_factor
                    model_lex += w * f * i
                    infra_lex += w * f * m
                    if w * f * max(m, i) > best_ev[0]:
                        best_ev = (w * f * max(m, i), c.strip())
        if title_unit is not None:
            model_lex += 0.3 * sum(wt for pat, wt in MODELING_CUES if pat.search(title_unit.text))
            infra_lex += 0.3 * sum(wt for pat, wt in INFRA_CUES if pat.search(title_unit.text))
        emb = 0.0
        if len(vecs):
            sm = (vecs @ anchors.model_vecs.T).max(axis=1)
            si = (vecs @ anchors.infra_vecs.T).max(axis=1)
            plain = np.array([all(k == "pos" for k in ks) for ks in kinds], dtype=np.float32)
            emb = float(((si - sm) * weights * plain).sum())
        score = (infra_lex - model_lex) / (infra_lex + model_lex + 1.0) + p.emb_weight * emb / (weights.sum() + 1.0) - p.resp_bias
        resp = "infrastructure" if score > 0 else "modeling"
        return resp, {"infra_lex": infra_lex, "model_lex": model_lex, "emb": emb, "resp_score": score}, best_ev[1]

    # domains ------------------------------------------------------------------------------
    def _domains(self, units, kinds, weights, title_text: str = "", resp: str = "modeling"):
        p = self.params
        scores = {d: 0.0 for d in DOMAINS}
        duty_scores = {d: 0.0 for d in DOMAINS}  # from the duties list alone
        anchored: set[str] = set()
        evidence: dict[str, tuple[float, str]] = {}
        unit_domains: list[set[str]] = []  # per duty unit, the domains it names
        title_named: set[str] = set()  # domains the title names outright ("Autonomy Engineer")
        platform_wide = False
        items = [(u.text, ks, w, u.section) for u, ks, w in zip(units, kinds, weights)]
        if title_text:
            items.append((title_text, [clause_kind(c) for c in clauses(title_text)], SECTION_WEIGHT["title"], "title"))
        for text, ks, w, section in items:
            if w <= 0:
                continue
            named: set[str] = set()
            if section == "title":
                for c in clauses(text):
                    domain_hits(c, title_named)
            if section in ("duties", "role") and _PLATFORM_WIDE.search(text):
                platform_wide = True
            # in a unit about speech, "language models" are the recogniser's language models
            lt = fold(text)
            speech_unit = any(pat.search(text, lt) for pat in DOMAIN_CUES["speech"][0])
            for c, k in zip(clauses(text), ks):
                strong: set[str] = set()
                per = domain_hits(c, strong)
                if speech_unit and "nlp" in per:
                    per["nlp"] *= 0.3
                if not per:
                    continue
                # ranking and prices inside a paid-placement sentence are ads work (the auction's
                # ranking, reserve prices), not organic ranking or pricing models
                if per.get("ads", 0) >= 0.9:
                    for other in ("recsys", "tabular"):
                        if other in per:
                            per[other] *= 0.3
                # text read off images or video frames (on-screen text, OCR) is vision work
                if "nlp" in per and _TEXT_IN_PICTURES.search(c):
                    per["nlp"] *= 0.3
                # the language model of a speech recogniser is speech work
                if per.get("speech", 0) >= 1.0 and "nlp" in per:
                    per["nlp"] *= 0.3
                for d, sc in per.items():
                    if k == "neg":
                        scores[d] -= 1.5 * w * sc
                        continue
                    # work handed to another team still names the models the job is built for
                    f = p.deleg_domain if k in ("deleg", "negreq") else 1.0
                    scores[d] += f * w * sc
                    if section == "duties":
                        duty_scores[d] += f * w * sc
                    if d in strong and sc >= 0.9 and w >= 0.9:
                        anchored.add(d)  # named outright in the duties
                    if k == "pos" and sc >= 0.7:
                        named.add(d)
                    if f * w * sc > evidence.get(d, (0.0, ""))[0]:
                        evidence[d] = (f * w * sc, c.strip())
            if w >= 0.9 and section != "title" and named:
                unit_domains.append(named)
        # The title's domain counts like a duty's when the duties back it: "Speech Platform
        # Engineer" whose duties mention audio. A title alone decides nothing.
        for d in title_named:
            if any(d in ds for ds in unit_domains):
                anchored.add(d)
        if resp == "infrastructure" and platform_wide:
            # A platform for every model at the company: the teams and products it names in its
            # intro are examples, not the job's domain; only what the duties themselves are
            # built for counts.
            scores = duty_scores
        top = max(scores.values()) if scores else 0.0
        # a domain needs evidence across the posting, or one duty that names it outright (a list
        # of unrelated problems names each domain once)
        chosen = [
            d
            for d in DOMAINS
            if (scores[d] >= p.domain_threshold and scores[d] >= p.domain_rel * top)
            or (d in anchored and scores[d] >= p.domain_anchor_threshold and scores[d] >= p.domain_anchor_rel * top)
        ]
        feats = {
            "domain_scores": {d: round(s, 2) for d, s in scores.items()},
            "domain_anchored": sorted(anchored),
            "domain_units": unit_domains,
            "platform_wide": platform_wide,
        }
        return chosen, feats, {d: _short(e[1], 90) for d, e in evidence.items()}

    # level --------------------------------------------------------------------------------
    def _level(self, units, parsed):
        scope_units = [u for u in units if u.section in ("role", "duties", "requirements", "other", "nice")]
        text_all = " ".join(u.text for u in scope_units)
        lows = [fold(u.text) for u in scope_units]
        staff = sum(w for u, lw in zip(scope_units, lows) for pat, w in _STAFF_SCOPE if pat.search(u.text, lw))
        senior = sum(w for u, lw in zip(scope_units, lows) for pat, w in _SENIOR_SCOPE if pat.search(u.text, lw))
        entry = sum(w for u, lw in zip(scope_units, lows) for pat, w in _ENTRY if pat.search(u.text, lw))
        entry += sum(w for pat, w in _ENTRY if pat.search(parsed.title or ""))
        years = extract_years([u.text for u in units if u.section in ("requirements", "role", "duties", "other", "nice")])
        title_level = None
        for lvl, pat in _TITLE_LEVEL:
            if parsed.title and pat.search(parsed.title):
                title_level = lvl
                break
        feats = {"staff_scope": staff, "senior_scope": senior, "entry_cues": entry, "years": years, "title_level": title_level}
        y = years[0] if years else None
        # Scope first: what the job says the person will do outranks the title and the years.
        if staff >= 2.0 and (y is None or y >= 5 or title_level == "staff"):
            return "staff", feats, f"scope: sets direction across teams (staff cues {staff:.1f})" + (f"; {y}+ years" if y else "")
        if entry >= 1.5 and (y is None or y <= 2):
            return "entry", feats, "graduate / early-career cues" + (f"; {y} years" if y is not None else "") + (
                f" (the title's {title_level!r} is the company's name for an entry-level job)" if title_level not in (None, "entry") else ""
            )
        years_level = None if y is None else "entry" if y <= 1 else "mid" if y < 5 else "senior" if y < 8 else "staff"
        if senior >= 2.0 and (y is None or y >= 3):
            # leads a project and mentors people: senior, whatever the minimum years
            lvl = _max_level("senior", years_level, title_level)
            return lvl, feats, "leads projects and mentors" + (f"; {y}+ years" if y is not None else "")
        # Years are the least the posting accepts, so they are a floor: "Senior ... 3+ years" is
        # a senior job open to people with three years; a level word in the title raises it.
        if years_level or title_level:
            lvl = _max_level(years_level, title_level)
            if title_level and lvl == title_level and title_level != years_level:
                return lvl, feats, f"the title says {title_level}" + (f" ({y}+ years is the minimum it accepts)" if y is not None else "")
            return lvl, feats, f"asks for {y}+ years of experience"
        if staff >= 1.5:
            return "staff", feats, "cross-team scope"
        if senior >= 1.0:
            return "senior", feats, "leads projects and mentors"
        if entry >= 1.0:
            return "entry", feats, "learning-focused cues"
        return "mid", feats, "no years, scope or level word: mid by default"

    # specialization -----------------------------------------------------------------------
    def _specialization(self, units, kinds, weights, domains, resp, dfeats):
        broad = focused = 0.0
        for u, w in zip(units, weights):
            ww = max(w, 0.5) if u.section != "company" else 0.3
            lw = fold(u.text)
            broad += ww * sum(wt for pat, wt in _BROAD if pat.search(u.text, lw))
            focused += ww * sum(wt for pat, wt in _FOCUSED if pat.search(u.text, lw))
        # unrelated domains in the duties make a job broad
        groups: list[set[str]] = []
        for d in domains:
            for g in groups:
                if any({d, e} in DOMAIN_AFFINITY for e in g):
                    g.add(d)
                    break
            else:
                groups.append({d})
        # two domains named together in every duty that names the rarer one are one problem seen
        # through two kinds of data (an image with its caption), not two jobs
        per_unit = dfeats.get("domain_units", [])
        merged = True
        while merged and len(groups) > 1:
            merged = False
            for i in range(len(groups)):
                for j in range(i + 1, len(groups)):
                    ui = [k for k, ds in enumerate(per_unit) if ds & groups[i]]
                    uj = [k for k, ds in enumerate(per_unit) if ds & groups[j]]
                    if ui and uj and (set(ui) <= set(uj) or set(uj) <= set(ui)):
                        groups[i] |= groups.pop(j)
                        merged = True
                        break
                if merged:
                    break
        spread = len(groups)
        stages, families = set(), set()
        for u, w, ks in zip(units, weights, kinds):
            if w >= 0.9:
                lw = fold(u.text)
                for st, pat in _STAGES.items():
                    if pat.search(u.text, lw):
                        stages.add(st)
                if all(k == "pos" for k in ks):
                    # a duty about one kind of problem; a duty naming several is one problem seen
                    # from several sides (an auction's reserve prices are not a pricing job)
                    fams = [f for f, pat in _PROBLEM_FAMILIES.items() if pat.search(u.text, lw)]
                    if len(fams) == 1:
                        families.add(fams[0])
                    elif len(fams) > 1 and not u.bullet:
                        # a sentence of prose that lists problems ("forecast demand, estimate
                        # promotions, and flag suspicious returns") names one problem per item
                        for item in _ENUM_SPLIT.split(u.text):
                            fi = [f for f, pat in _PROBLEM_FAMILIES.items() if pat.search(item)]
                            if len(fi) == 1 and len(item.split()) >= 3:
                                families.add(fi[0])
        score = broad - focused
        if spread >= 2:
            score += 1.5
        if resp == "infrastructure":
            # the lifecycle: the data/training side and the serving side together make a platform job
            both_sides = bool(stages & {"data", "training"}) and bool(stages & {"serving", "deploy"})
            score += 0.8 * (len(stages) - 3) + (0.5 if both_sides else -0.5)
            if not domains:
                score += 1.0  # a platform for any model
        else:
            if spread <= 1:
                score -= 1.0
            if len(families) >= 3:
                score += 1.5
        spec = "generalist" if score > 0 else "specialist"
        reason = f"breadth cues {broad:.1f}, focus cues {focused:.1f}, {spread} unrelated domain group(s)"
        if resp == "modeling":
            reason += f", problem kinds {len(families)} ({', '.join(sorted(families))})"
        if resp == "infrastructure":
            reason += f", lifecycle stages {len(stages)} ({', '.join(sorted(stages))})"
        return spec, {"broad": broad, "focused": focused, "spread": spread, "stages": sorted(stages), "families": sorted(families), "spec_score": score, "spec_reason": reason}

    # focus --------------------------------------------------------------------------------
    def _focus(self, units, kinds, vecs, weights, anchors, resp, domains) -> list[FocusTopic]:
        p = self.params
        n_t = len(anchors.topic_ids)
        if not units:
            return []
        # units that hand work away or rule it out ("the platform team owns monitoring") do not
        # point to something the candidate will do
        fw = np.array(
            [w * (1.0 if all(k == "pos" for k in ks) else 0.35 if any(k == "pos" for k in ks) else 0.1) for w, ks in zip(weights, kinds)],
            dtype=np.float32,
        )
        sims = vecs @ anchors.topic_vecs.T  # (U, T); zero rows for units not embedded
        emb = np.clip(sims - p.focus_sim_floor, 0.0, None) * fw[:, None]
        lex = np.zeros_like(emb)
        for ui, u in enumerate(units):
            if fw[ui] <= 0:
                continue
            lw = fold(u.text)
            for j, t in enumerate(anchors.topic_ids):
                pat = TOPIC_CUES.get(t)
                if pat is not None and pat.search(u.text, lw):
                    lex[ui, j] = fw[ui]
        contrib = emb + p.focus_lex * lex
        # a topic's score: its best unit plus part of the next ones that back it
        srt = -np.sort(-contrib, axis=0)
        score = srt[0] + 0.5 * srt[1:4].sum(axis=0) if len(srt) > 1 else srt[0]
        prior = np.ones(n_t, dtype=np.float32)
        for j, t in enumerate(anchors.topic_ids):
            if t in SYSTEMS_TOPICS:
                prior[j] = 1.25 if resp == "infrastructure" else 0.7
            elif resp == "infrastructure":
                prior[j] = 0.8
            dom = TOPIC_DOMAIN.get(t)
            if dom is not None:
                prior[j] *= 1.2 if dom in domains else 0.5
        score = score * prior
        order = np.argsort(-score)
        top = float(score[order[0]])
        chosen = []
        for j in order[: p.focus_max]:
            if score[j] <= 0 or (len(chosen) >= p.focus_min and score[j] < p.focus_rel * top):
                break
            chosen.append(int(j))
        out = []
        for j in chosen:
            t = anchors.topic_ids[j]
            ev = []
            best_u = float(contrib[:, j].max())
            for ui in np.argsort(-contrib[:, j])[:3]:
                # a second phrase only when its unit backs the topic about as well as the first
                if contrib[ui, j] <= 0 or len(ev) >= 2 or (ev and contrib[ui, j] < 0.6 * best_u):
                    continue
                phrase = evidence_phrase(units[ui].text, anchors.topic_keys[j], TOPIC_CUES.get(t))
                if phrase and phrase not in ev:
                    ev.append(phrase)
            out.append(FocusTopic(topic=t, title=anchors.topic_titles[t], weight=round(float(score[j] / top), 2) if top else 0.0, evidence=ev))
        return out


_EVID_SPLIT = re.compile(r"[,;:]\s+|\s+[—–]\s+|\s*\(|\)\s*|\s+(?=(?:because|so\s+that|where|which|while|whereas|when)\b)", re.I)
_EDGE_WORDS = frozenset("a an the and or of to in on for with by at as is are be that this from so but".split())


def evidence_phrase(unit_text: str, keys: list[str], cue: FastPattern | None = None, max_words: int = 16) -> str:
    """The part of a unit that best names a topic, verbatim (whitespace collapsed): the clause
    holding the topic's cue, else the clause sharing most words with the topic's description."""
    text = " ".join(unit_text.split())
    if len(text.split()) <= max_words:
        return text.rstrip(".;:,").strip()
    # segments between separators, as character spans of `text` (so the result stays verbatim)
    spans, pos = [], 0
    for m in _EVID_SPLIT.finditer(text):
        if m.start() > pos:
            spans.append((pos, m.start()))
        pos = m.end()
    if pos < len(text):
        spans.append((pos, len(text)))
    best_i, best_score = 0, -1.0
    for i, (a, b) in enumerate(spans):
        part = text[a:b]
        low = part.lower()
        sc = 0.01 * min(len(part.split()), 12)
        if cue is not None and cue.search(part):
            sc += 3.0
        sc += sum(1.0 for k in keys if k and k in low)
        sc += sum(0.2 for k in keys for wd in k.split() if len(wd) > 4 and wd in low)
        if sc > best_score:
            best_i, best_score = i, sc
    if not spans:
        return text[:200]
    a, b = spans[best_i]
    j = best_i
    while len(text[a:b].split()) < 4 and j + 1 < len(spans):  # too short to read alone
        j += 1
        b = spans[j][1]
    words = [(m.start() + a, m.end() + a) for m in re.finditer(r"\S+", text[a:b])]
    if len(words) > max_words:
        start = 0
        if cue is not None:
            m = cue.search(text[a:b])
            if m:
                hit = sum(1 for ws, _ in words if ws < a + m.start())
                start = max(0, min(hit - max_words // 3, len(words) - max_words))
        words = words[start : start + max_words]
    # do not start or end on a function word
    while len(words) > 2 and text[words[-1][0] : words[-1][1]].lower().strip(".,;:") in _EDGE_WORDS:
        words = words[:-1]
    while len(words) > 2 and text[words[0][0] : words[0][1]].lower() in _EDGE_WORDS:
        words = words[1:]
    return text[words[0][0] : words[-1][1]].strip(".;:,( ").strip()


def _max_level(*levels: str | None) -> str:
    got = [lv for lv in levels if lv]
    return max(got, key=LEVELS.index) if got else "mid"


def extract_years(texts: list[str]) -> list[int]:
    """Years of experience asked for, most demanding first (lower bounds of ranges)."""
    found: list[int] = []
    for t in texts:
        for m in _YEARS.finditer(t):
            lo = _num(m.group("lo"))
            if lo is None or lo > 30:
                continue
            before = t[max(0, m.start() - 25) : m.start()]
            if _YEARS_NOT_EXPERIENCE.search(before):
                continue
            has_form = bool(m.group("plus") or m.group("hi") or m.group("pre"))
            if not (has_form or m.group("post")):
                continue
            after = t[m.end() : m.end() + 40]
            if re.match(r"\s*(old|ago|from\s+now|later|into)\b", after, re.I) or re.match(r"-?old", after):
                continue
            if m.group("pre") and m.group("pre").strip().lower() == "up to":
                found.append(min(lo, 1) if lo <= 2 else lo - 2)
                continue
            found.append(lo)
        if _DECADE.search(t):
            found.append(10)
        for m in _YEARS_FOREIGN.finditer(t):
            lo = _num(m.group("lo"))
            if lo is not None and lo <= 30:
                found.append(lo)
    return sorted(set(found), reverse=True)


def _num(s: str | None) -> int | None:
    if s is None:
        return None
    s = s.strip().lower()
    if s.isdigit():
        return int(s)
    return _WORDNUM.get(s)


def round_weights(responsibility: str, level: str, specialization: str = "generalist") -> dict[str, float]:
    """Which rounds matter for this role: infrastructure leans on system design, modeling on
    breadth and depth, seniority raises depth and design. Sums to 1."""
    if responsibility == "infrastructure":
        w = {"breadth": 0.15, "depth": 0.20, "system_design": 0.40, "coding": 0.25}
    else:
        w = {"breadth": 0.32, "depth": 0.28, "system_design": 0.18, "coding": 0.22}
    shift = {
        "entry": {"breadth": 0.08, "depth": -0.04, "system_design": -0.08, "coding": 0.04},
        "mid": {},
        "senior": {"breadth": -0.05, "depth": 0.04, "system_design": 0.05, "coding": -0.04},
        "staff": {"breadth": -0.08, "depth": 0.06, "system_design": 0.10, "coding": -0.08},
    }[level]
    for k, v in shift.items():
        w[k] += v
    if specialization == "specialist":
        w["depth"] += 0.04
        w["breadth"] -= 0.04
    w = {k: max(0.04, v) for k, v in w.items()}
    total = sum(w.values())
    out = {k: round(v / total, 3) for k, v in w.items()}
    # make the rounded weights sum to exactly 1
    diff = round(1.0 - sum(out.values()), 3)
    kmax = max(out, key=out.get)
    out[kmax] = round(out[kmax] + diff, 3)
    return {r: out[r] for r in ROUNDS}


def _short(s: str, n: int) -> str:
    s = " ".join(s.split())
    return s if len(s) <= n else s[: n - 1] + "…"


# ------------------------------------------------------------------------------------------
# LLM


class LLMFocus(BaseModel):
    topic: str = Field(description="a topic id from the list given")
    evidence: list[str] = Field(default_factory=list, description="short phrases copied character for character from the posting")


class LLMRoleOutput(BaseModel):
    title: str = Field(default="", description="the job title as the posting gives it")
    company: str | None = Field(default=None, description="the hiring company, if named")
    responsibility: str = Field(description="modeling | infrastructure")
    specialization: str = Field(description="generalist | specialist")
    domains: list[str] = Field(default_factory=list, description="zero or more of: recsys, ads, nlp, cv, autonomy, tabular, speech")
    level: str = Field(description="entry | mid | senior | staff")
    focus: list[LLMFocus] = Field(default_factory=list, description="3-6 topics to prepare, most central first")
    rationale: list[str] = Field(default_factory=list, description="one short sentence per label: why")


def _norm_label(value: str, allowed: tuple[str, ...], aliases: dict[str, str] | None = None) -> str | None:
    v = (value or "").strip().lower().replace("_", "-")
    v = (aliases or {}).get(v, v)
    return v if v in allowed else None


_RESP_ALIASES = {"model": "modeling", "modelling": "modeling", "infra": "infrastructure", "platform": "infrastructure", "engineering": "infrastructure"}
_SPEC_ALIASES = {"general": "generalist", "specialized": "specialist", "specialised": "specialist"}
_LEVEL_ALIASES = {"junior": "entry", "new-grad": "entry", "intern": "entry", "mid-level": "mid", "intermediate": "mid", "principal": "staff", "lead": "staff"}
_DOMAIN_ALIASES = {
    "recommendation": "recsys",
    "recommendations": "recsys",
    "search": "recsys",
    "ranking": "recsys",
    "advertising": "ads",
    "language": "nlp",
    "llm": "nlp",
    "vision": "cv",
    "computer-vision": "cv",
    "robotics": "autonomy",
    "self-driving": "autonomy",
    "audio": "speech",
    "forecasting": "tabular",
    "fraud": "tabular",
}


class LLMRoleAnalyzer:
    name = "llm"

    def __init__(self, llm, offline: OfflineRoleAnalyzer | None = None):
        self.llm = llm
        self._offline = offline

    @property
    def offline(self) -> OfflineRoleAnalyzer:
        if self._offline is None:
            self._offline = OfflineRoleAnalyzer()
        return self._offline

    def build_messages(self, text: str):
        from langchain_core.messages import HumanMessage, SystemMessage

        from interviewer.chains.prompting import load_prompt

        prompt = load_prompt(PROMPT_NAME)
        nonce = secrets.token_hex(4)
        open_tag, close_tag = f"<posting-{nonce}>", f"</posting-{nonce}>"
        # nothing inside the posting may pose as our delimiters
        safe = re.sub(r"</?\s*posting[^>]*>", "[tag removed]", text, flags=re.I)
        topic_lines = "\n".join(f"- {t['id']}: {t['title']}" for t in topic_vocabulary())
        user = prompt.render_user(topics=topic_lines, open_tag=open_tag, close_tag=close_tag, posting=safe)
        return [SystemMessage(content=prompt.system), HumanMessage(content=user)], prompt.version

    def analyze(self, text: str) -> RoleProfile:
        prep = prepare(text, model=getattr(self.llm, "model_name", None))
        return self.analyze_prepared(prep)

    def analyze_prepared(self, prep: Prepared) -> RoleProfile:
        messages, version = self.build_messages(prep.text)
        out = self.llm.structured(LLMRoleOutput, messages, purpose="analyze")
        notices = list(prep.notices)
        parsed = parse(prep.text, prep.page_title, prep.title_hint)
        # labels: normalised, and anything outside the vocabulary is filled from the offline reading
        resp = _norm_label(out.responsibility, ("modeling", "infrastructure"), _RESP_ALIASES)
        spec = _norm_label(out.specialization, ("generalist", "specialist"), _SPEC_ALIASES)
        level = _norm_label(out.level, LEVELS, _LEVEL_ALIASES)
        domains = []
        for d in out.domains:
            nd = _norm_label(d, DOMAINS, _DOMAIN_ALIASES)
            if nd and nd not in domains:
                domains.append(nd)
        offline_profile: RoleProfile | None = None
        filled = []
        if resp is None or spec is None or level is None:
            offline_profile = self.offline.analyze_prepared(prep).profile
            if resp is None:
                resp, _ = offline_profile.responsibility, filled.append("responsibility")
            if spec is None:
                spec, _ = offline_profile.specialization, filled.append("specialization")
            if level is None:
                level, _ = offline_profile.level, filled.append("level")
        if filled:
            notices.append(f"the model returned no valid {', '.join(filled)}; taken from the offline analysis")
        # Text addressed to AI tools was removed before the model saw the posting. The model may
        # still have been steered by something subtler, so when the posting tried, its labels are
        # checked against the offline reading (which never follows instructions) and the offline
        # labels win where they disagree.
        if prep.injections:
            offline_profile = offline_profile or self.offline.analyze_prepared(prep).profile
            changed = []
            if resp != offline_profile.responsibility:
                resp = offline_profile.responsibility
                changed.append("responsibility")
            if level != offline_profile.level:
                level = offline_profile.level
                changed.append("level")
            if spec != offline_profile.specialization:
                spec = offline_profile.specialization
                changed.append("specialization")
            if set(domains) != set(offline_profile.domains):
                domains = list(offline_profile.domains)
                changed.append("domains")
            if changed:
                notices.append(
                    "the posting contains instructions aimed at AI tools; the model's "
                    + ", ".join(changed)
                    + " disagreed with the offline reading of the duties, so the offline labels were kept"
                )
        # focus: known topic ids only, evidence verified verbatim against the posting
        known = {t["id"]: t["title"] for t in topic_vocabulary()}
        focus: list[FocusTopic] = []
        dropped = unknown = 0
        for f in out.focus:
            tid = (f.topic or "").strip().lower()
            if tid not in known:
                unknown += 1
                continue
            if any(x.topic == tid for x in focus):
                continue
            # checked against the text the model was given: a phrase quoted from removed
            # passages (text addressed to AI tools) is not in it, so it is not evidence
            ok, bad = verify_phrases(list(f.evidence), prep.text)
            dropped += len(bad)
            if not ok:
                continue  # a topic the posting does not show is not a focus area
            focus.append(FocusTopic(topic=tid, title=known[tid], evidence=ok))
        if dropped:
            notices.append(f"dropped {dropped} evidence phrase(s) that are not in the posting")
        if unknown:
            notices.append(f"dropped {unknown} focus topic(s) outside the topic vocabulary")
        n = len(focus)
        for i, f in enumerate(focus):
            f.weight = round(1.0 - 0.5 * i / max(1, n - 1), 2) if n > 1 else 1.0
        if not focus:
            offline_profile = offline_profile or self.offline.analyze_prepared(prep).profile
            focus = offline_profile.focus
            notices.append("the model gave no focus topic backed by the posting's words; focus taken from the offline analysis")
        title = out.title.strip() if out.title and out.title.strip() and out.title.strip().lower() in prep.text.lower() else parsed.title
        company = out.company.strip() if out.company and out.company.strip().lower() in prep.text.lower() else parsed.company
        return RoleProfile(
            title=title,
            company=company,
            responsibility=resp,
            specialization=spec,
            domains=[d for d in DOMAINS if d in domains],
            level=level,
            focus=focus[:6],
            rounds=round_weights(resp, level, spec),
            rationale=[_short(r, 300) for r in out.rationale[:8]],
            notices=notices,
            analyzer="llm",
            model=getattr(self.llm, "model_name", None),
            prompt_version=version,
        )


# ------------------------------------------------------------------------------------------
# eval


def run_role_suite(suite: EvalSuite, analyzer) -> dict:
    """Run a `kind: role` suite; metrics over all cases plus each case's prediction."""
    from sklearn.metrics import f1_score, precision_score, recall_score
    from sklearn.preprocessing import MultiLabelBinarizer

    cases_out = []
    resp_ok = spec_ok = lvl_ok = lvl_near = 0
    gold_domains, pred_domains = [], []
    focus_hit = focus_total = 0
    n = 0
    for case in suite.cases:
        exp = case.expected or {}
        try:
            prof = analyzer.analyze(case.posting or "")
            actual = prof.model_dump()
            error = None
        except Exception as exc:  # a case that fails counts as wrong, the suite goes on
            prof, actual, error = None, {}, f"{type(exc).__name__}: {exc}"
        n += 1
        correct = {}
        if "responsibility" in exp:
            correct["responsibility"] = bool(prof and prof.responsibility == exp["responsibility"])
            resp_ok += correct["responsibility"]
        if "specialization" in exp:
            correct["specialization"] = bool(prof and prof.specialization == exp["specialization"])
            spec_ok += correct["specialization"]
        if "level" in exp:
            correct["level"] = bool(prof and prof.level == exp["level"])
            lvl_ok += correct["level"]
            if prof and exp["level"] in LEVELS:
                lvl_near += abs(LEVELS.index(prof.level) - LEVELS.index(exp["level"])) <= 1
        if "domains" in exp:
            g = set(exp.get("domains") or [])
            a = set(prof.domains) if prof else set()
            correct["domains"] = g == a
            gold_domains.append(sorted(g))
            pred_domains.append(sorted(a))
        if "focus" in exp:
            g = list(exp.get("focus") or [])
            a = set(prof.focus_topics()) if prof else set()
            hits = sum(t in a for t in g)
            focus_hit += hits
            focus_total += len(g)
            correct["focus"] = hits == len(g)
        row = {"id": case.id, "expected": exp, "actual": actual, "correct": correct}
        if error:
            row["error"] = error
        cases_out.append(row)
    mlb = MultiLabelBinarizer(classes=list(DOMAINS))
    if gold_domains:
        yg = mlb.fit_transform(gold_domains)
        yp = mlb.transform(pred_domains)
        if yg.sum() == 0 and yp.sum() == 0:
            f1 = prec = rec = 1.0
        else:
            f1 = float(f1_score(yg, yp, average="micro", zero_division=0))
            prec = float(precision_score(yg, yp, average="micro", zero_division=0))
            rec = float(recall_score(yg, yp, average="micro", zero_division=0))
    else:
        f1 = prec = rec = 0.0
    d = max(n, 1)
    metrics = {
        "responsibility_acc": resp_ok / d,
        "specialization_acc": spec_ok / d,
        "level_acc": lvl_ok / d,
        "level_within_one": lvl_near / d,
        "domain_f1": f1,
        "domain_precision": prec,
        "domain_recall": rec,
        "focus_recall": focus_hit / focus_total if focus_total else 0.0,
    }
    return {"metrics": {k: round(v, 4) for k, v in metrics.items()}, "cases": cases_out}
