// SPDX-License-Identifier: BSD-2-Clause
#include "ngx_module/admin/style.hpp"

namespace pushsync::admin {

std::string_view stylesheet() noexcept {
    // Tables become labelled cards below 40rem (the cells' data-label), so a phone never
    // scrolls sideways; system fonts only (no external assets).
    return R"css(:root{--fg:#1d2430;--muted:#5b6575;--line:#dde2ea;--bg:#f6f7f9;--card:#fff;--accent:#2557c7;--ok:#1c7c3f;--bad:#b3261e}
@media (prefers-color-scheme:dark){:root{--fg:#e6e9ef;--muted:#a3acba;--line:#343b47;--bg:#15181d;--card:#1e2229;--accent:#8ab0ff;--ok:#6fd08f;--bad:#ff8a80}}
*{box-sizing:border-box}
html{-webkit-text-size-adjust:100%}
body{margin:0;font:15px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif;color:var(--fg);background:var(--bg)}
header{background:var(--card);border-bottom:1px solid var(--line)}
header nav{max-width:80rem;margin:0 auto;padding:.6rem 1rem;display:flex;flex-wrap:wrap;gap:.25rem 1.25rem;align-items:baseline}
header a{color:var(--muted);text-decoration:none;padding:.15rem 0}
header a[aria-current=page]{color:var(--fg);border-bottom:2px solid var(--accent)}
header a.brand{color:var(--fg);font-weight:700;margin-right:.75rem}
main{max-width:80rem;margin:0 auto;padding:1rem}
footer{max-width:80rem;margin:0 auto;padding:1rem;color:var(--muted);font-size:.85rem}
h1{font-size:1.5rem;margin:.5rem 0 1rem;overflow-wrap:anywhere}
h2{font-size:1.05rem;margin:0 0 .5rem}
a{color:var(--accent)}
.note,.empty{color:var(--muted)}
.problem{font-size:1.05rem;overflow-wrap:anywhere}
.id,.token,.token-full,dd.token-full{font-family:ui-monospace,"SFMono-Regular",Menlo,Consolas,monospace}
.token-full{overflow-wrap:anywhere}
.cards{display:grid;grid-template-columns:repeat(auto-fit,minmax(14rem,1fr));gap:1rem;margin-bottom:1.5rem}
.card{background:var(--card);border:1px solid var(--line);border-radius:8px;padding:1rem;margin:0}
.card.wide{max-width:48rem;margin-bottom:1rem}
.card dl{display:grid;grid-template-columns:max-content 1fr;gap:.2rem 1rem;margin:0}
.card dt{color:var(--muted)}
.card dd{margin:0;text-align:right;font-variant-numeric:tabular-nums;overflow-wrap:anywhere}
.card.wide dd{text-align:left}
.badge{display:inline-block;margin:0 0 .5rem;padding:.05rem .6rem;border-radius:1rem;font-size:.85rem;font-weight:600}
.badge.ok{color:var(--ok);border:1px solid var(--ok)}
.badge.bad{color:var(--bad);border:1px solid var(--bad)}
section{margin-bottom:1.5rem}
.table{background:var(--card);border:1px solid var(--line);border-radius:8px;overflow-x:auto}
table{border-collapse:collapse;width:100%}
th,td{padding:.45rem .75rem;text-align:left;border-bottom:1px solid var(--line);white-space:nowrap}
thead th{color:var(--muted);font-weight:600;font-size:.85rem}
tbody tr:last-child>*{border-bottom:0}
.num{text-align:right;font-variant-numeric:tabular-nums}
td.ok{color:var(--ok)}
td.bad{color:var(--bad)}
.env{display:inline-block;margin-left:.4rem;padding:0 .4rem;border:1px solid var(--line);border-radius:4px;font-size:.8rem;color:var(--muted)}
.table.narrow{max-width:28rem}
table.figures th{font-weight:400}
form.search{max-width:40rem;display:flex;flex-wrap:wrap;gap:.5rem;align-items:center;margin-bottom:1rem}
form.search label{color:var(--muted);width:100%}
form.search input{flex:1 1 16rem;min-width:0;padding:.45rem .6rem;font:inherit;border:1px solid var(--line);border-radius:6px;background:var(--card);color:var(--fg)}
form.search button{padding:.45rem 1rem;font:inherit;border:1px solid var(--accent);border-radius:6px;background:var(--accent);color:#fff;cursor:pointer}
.pager{display:flex;gap:1.5rem;margin-top:1rem}
@media (max-width:40rem){
header nav{padding:.6rem .75rem;gap:.25rem .8rem;font-size:.93rem}
header a.brand{margin-right:0}
main{padding:.75rem}
.table:not(.narrow){border:0;background:none}
.table table:not(.figures) thead{display:none}
.table table:not(.figures) tr{display:block;background:var(--card);border:1px solid var(--line);border-radius:8px;margin-bottom:.75rem;padding:.35rem .75rem}
.table table:not(.figures) td{display:flex;justify-content:space-between;gap:1rem;border:0;padding:.2rem 0;white-space:normal;overflow-wrap:anywhere;text-align:right}
.table table:not(.figures) td::before{content:attr(data-label);color:var(--muted);text-align:left}
.table.narrow{background:var(--card);border:1px solid var(--line)}
}
)css";
}

}  // namespace pushsync::admin
