// The pages' strings in English and Chinese. The language is the override if one is given (a page option or
// `?lang=`), else the browser's (`navigator.language`): Chinese for any `zh*`, English otherwise.

const STRINGS = {
  en: {
    widgetTitle: "Customer service",
    consoleTitle: "Agent console",
    startChat: "Start a chat",
    messageLabel: "Your message",
    send: "Send",
    reconnecting: "Connection lost — reconnecting…",
    connecting: "Connecting…",
    disconnected: "Disconnected.",
    waitingForAgent: "Waiting for an agent…",
    agentOnline: "Agent online",
    agentOffline: "Agent offline",
    customerOnline: "Customer online",
    customerOffline: "Customer offline",
    agentJoined: "An agent joined the chat.",
    agentTransferred: "You are now talking to another agent.",
    chatClosed: "This chat is closed.",
    newChat: "Start a new chat",
    typing: "Typing…",
    agentTyping: "The agent is typing…",
    customerTyping: "The customer is typing…",
    messages: "Messages",
    pending: "sending",
    sent: "sent",
    delivered: "delivered",
    read: "read",
    failed: "not sent",
    you: "You",
    agent: "Agent",
    customer: "Customer",
    waitingQueue: "Waiting queue",
    noWaiting: "Nobody is waiting.",
    take: "Take",
    mySessions: "My sessions",
    noSessions: "No open sessions. Take one from the queue.",
    transferTo: "Transfer to agent id",
    transfer: "Transfer",
    close: "Close",
    dismiss: "Dismiss",
    unread: "unread",
    sessionOf: "Customer {user}",
    transferredAway: "Session {session} was transferred to agent {agent}.",
    sessionClosed: "Session {session} was closed.",
    error: "Error: {message}",
    language: "Language",
  },
  zh: {
    widgetTitle: "在线客服",
    consoleTitle: "客服工作台",
    startChat: "开始咨询",
    messageLabel: "输入消息",
    send: "发送",
    reconnecting: "连接已断开，正在重连…",
    connecting: "正在连接…",
    disconnected: "已断开连接。",
    waitingForAgent: "正在等待客服接入…",
    agentOnline: "客服在线",
    agentOffline: "客服离线",
    customerOnline: "客户在线",
    customerOffline: "客户离线",
    agentJoined: "客服已接入。",
    agentTransferred: "已为您转接其他客服。",
    chatClosed: "本次会话已结束。",
    newChat: "发起新会话",
    typing: "正在输入…",
    agentTyping: "客服正在输入…",
    customerTyping: "客户正在输入…",
    messages: "消息",
    pending: "发送中",
    sent: "已发送",
    delivered: "已送达",
    read: "已读",
    failed: "发送失败",
    you: "我",
    agent: "客服",
    customer: "客户",
    waitingQueue: "排队中的会话",
    noWaiting: "暂无排队客户。",
    take: "接入",
    mySessions: "我的会话",
    noSessions: "暂无进行中的会话，请从队列接入。",
    transferTo: "转接给客服 ID",
    transfer: "转接",
    close: "结束",
    dismiss: "关闭",
    unread: "未读",
    sessionOf: "客户 {user}",
    transferredAway: "会话 {session} 已转接给客服 {agent}。",
    sessionClosed: "会话 {session} 已结束。",
    error: "错误：{message}",
    language: "语言",
  },
};

export const LANGUAGES = Object.keys(STRINGS);

/** The language to use: a supported override, else the browser's preference. */
export function pickLanguage(override, browserLanguage = globalThis.navigator?.language ?? "en") {
  if (override && STRINGS[override]) return override;
  return String(browserLanguage).toLowerCase().startsWith("zh") ? "zh" : "en";
}

/** A translator for `lang`: `t("sessionOf", { user: 5 })`; falls back to English, then to the key. */
export function translator(lang) {
  const table = STRINGS[lang] ?? STRINGS.en;
  return (key, values = {}) =>
    (table[key] ?? STRINGS.en[key] ?? key).replace(/\{(\w+)\}/g, (_, name) => String(values[name] ?? ""));
}

/** Set every `[data-i18n]` element's text (and `[data-i18n-label]`'s aria-label) under `root`. */
export function translatePage(root, t, lang) {
  root.documentElement?.setAttribute("lang", lang === "zh" ? "zh-CN" : "en");
  for (const el of root.querySelectorAll("[data-i18n]")) el.textContent = t(el.dataset.i18n);
  for (const el of root.querySelectorAll("[data-i18n-label]")) el.setAttribute("aria-label", t(el.dataset.i18nLabel));
}
