// Which redirects count as clicks. Not counted (still redirected): HEAD requests, bots and crawlers,
// link-preview fetchers (chat apps and social networks unfurling a URL), browser prefetches, and
// visitors who send a no-track signal (`DNT: 1` or `Sec-GPC: 1`). Bots are the maintained `isbot`
// list; previews are checked first so they keep their own reason.
import type { IncomingMessage } from "node:http";
import { isbot } from "isbot";

export type NotCountedReason = "head" | "bot" | "preview" | "prefetch" | "no-track";

/** Link-preview fetchers: they fetch the URL to draw a card, nobody clicked. */
const PREVIEW_PATTERN =
  /slackbot|slack-imgproxy|twitterbot|discordbot|telegrambot|whatsapp|linkedinbot|skypeuripreview|embedly|iframely|pinterest|redditbot|applebot|google-structured-data|vkshare|viber|snapchat|mastodon|pleroma|misskey|bluesky|cardyb|outbrain|quora link preview|nuzzel|bitlybot|tumblr|flipboard|xing-contenttabreceiver|preview/i;

/** User agents repeat (one browser build per visitor crowd): their verdicts are kept, up to a bound. */
const MAX_REMEMBERED_AGENTS = 1000;
const agentVerdicts = new Map<string, "bot" | "preview" | null>();

function agentReason(ua: string): "bot" | "preview" | null {
  const known = agentVerdicts.get(ua);
  if (known !== undefined) return known;
  const verdict = ua.trim() === "" ? "bot" : PREVIEW_PATTERN.test(ua) ? "preview" : isbot(ua) ? "bot" : null;
  if (agentVerdicts.size >= MAX_REMEMBERED_AGENTS) agentVerdicts.clear();
  agentVerdicts.set(ua, verdict);
  return verdict;
}

export function notCountedReason(req: Pick<IncomingMessage, "method" | "headers">): NotCountedReason | null {
  if (req.method === "HEAD") return "head";
  const h = req.headers;
  const agent = agentReason(h["user-agent"] ?? "");
  if (agent) return agent;
  const purpose = `${h["sec-purpose"] ?? ""} ${h.purpose ?? ""} ${h["x-purpose"] ?? ""} ${h["x-moz"] ?? ""}`;
  if (/prefetch|preview/i.test(purpose)) return "prefetch";
  if (h.dnt === "1" || h["sec-gpc"] === "1") return "no-track";
  return null;
}
