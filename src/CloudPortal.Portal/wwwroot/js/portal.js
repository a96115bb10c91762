// CloudPortal portal: small behaviours on server-rendered pages. Everything works without them, except the live
// updates, the upload's progress bar and the VNC console.
"use strict";

// The project switcher submits on change.
document.querySelectorAll("select[data-autosubmit]").forEach(select =>
    select.addEventListener("change", () => select.form.submit()));

// Destructive actions ask first.
document.querySelectorAll("form[data-confirm]").forEach(form =>
    form.addEventListener("submit", event => {
        if (!window.confirm(form.dataset.confirm)) event.preventDefault();
    }));

// Live instance pages: Compute's events arrive over SignalR; a changed instance's row or detail is re-read from
// the server (the API stays the source of truth), so nothing has to be reloaded by hand.
(function live() {
    // Looked up each time: a refresh replaces the element.
    const part = () => document.querySelector("[data-live-list]") ?? document.querySelector("[data-live-instance]");
    if (!part()) return;
    const script = document.createElement("script");
    script.src = "/assets/lib/signalr/signalr.min.js";
    script.onload = () => {
        const connection = new signalR.HubConnectionBuilder().withUrl("/live").withAutomaticReconnect().build();
        let pending = null;
        const refresh = () => {
            // Coalesce a burst of events into one re-read.
            if (pending) return;
            pending = setTimeout(async () => {
                pending = null;
                const current = part();
                const response = await fetch(current.dataset.liveSource, { headers: { "X-Requested-With": "fetch" } });
                if (!response.ok) return;
                const fresh = new DOMParser().parseFromString(await response.text(), "text/html").body.firstElementChild;
                if (fresh) part().replaceWith(fresh);
                document.body.dataset.live = "ready";   // connected and up to date (tests wait for this before clicking)
            }, 150);
        };
        connection.on("instanceChanged", change => {
            const current = part();
            if (current.matches("[data-live-list]")) {
                if (current.dataset.allProjects || change.projectId === document.body.dataset.project) refresh();
            } else if (current.dataset.liveInstance === change.instanceId) {
                refresh();
            }
        });
        connection.onreconnected(refresh);   // events missed while away: read everything again
        connection.start().then(refresh).catch(() => {});
    };
    document.head.appendChild(script);
})();

// Image upload from the browser: the bytes stream through the portal to Images; the bar follows the upload.
(function upload() {
    const form = document.querySelector("form[data-upload]");
    if (!form) return;
    form.addEventListener("submit", event => {
        event.preventDefault();
        const file = form.querySelector("input[type=file]").files[0];
        if (!file) return;
        const bar = document.getElementById("upload-progress");
        const status = document.getElementById("upload-status");
        const request = new XMLHttpRequest();
        request.open("PUT", form.action);
        request.setRequestHeader("Content-Type", "application/octet-stream");
        request.setRequestHeader("RequestVerificationToken", form.querySelector("input[name=__RequestVerificationToken]").value);
        request.upload.onprogress = e => {
            if (!e.lengthComputable) return;
            const percent = Math.round(100 * e.loaded / e.total);
            bar.style.width = percent + "%";
            bar.setAttribute("aria-valuenow", percent);
            bar.textContent = percent + "%";
        };
        request.onload = () => {
            if (request.status >= 200 && request.status < 300) {
                status.textContent = "Uploaded; checking the image...";
                window.location.href = form.dataset.done;
            } else {
                let message = "The upload was refused.";
                try { message = JSON.parse(request.responseText).message ?? message; } catch { /* not JSON */ }
                status.textContent = message;
                status.classList.add("text-danger");
            }
        };
        request.onerror = () => { status.textContent = "The upload failed: the connection was lost."; status.classList.add("text-danger"); };
        form.querySelector("button[type=submit]").disabled = true;
        status.textContent = "Uploading " + file.name + "...";
        request.send(file);
    });
})();

// Charts of the overview: each canvas carries its numbers.
(function charts() {
    const canvases = document.querySelectorAll("canvas[data-quota]");
    if (canvases.length === 0) return;
    const script = document.createElement("script");
    script.src = "/assets/lib/chartjs/chart.umd.min.js";
    script.onload = () => canvases.forEach(canvas => {
        const used = Number(canvas.dataset.used), limit = Number(canvas.dataset.limit);
        new Chart(canvas, {
            type: "doughnut",
            data: {
                labels: ["in use", "free"],
                datasets: [{ data: [used, Math.max(0, limit - used)], backgroundColor: [used >= limit ? "#dc3545" : "#0d6efd", "#e9ecef"] }],
            },
            options: { cutout: "70%", plugins: { legend: { display: false } }, animation: false },
        });
    });
    document.head.appendChild(script);
})();

// A page part that is settling (an image being saved or converted) re-reads itself until it has settled.
(function settle() {
    const poll = async () => {
        const part = document.querySelector("[data-refresh]");
        if (!part) return;
        const response = await fetch(part.dataset.refresh);
        if (response.ok) {
            const fresh = new DOMParser().parseFromString(await response.text(), "text/html").body.firstElementChild;
            if (fresh) part.replaceWith(fresh);
        }
        setTimeout(poll, 1500);
    };
    if (document.querySelector("[data-refresh]")) setTimeout(poll, 1500);
})();

// The launch wizard's key pair form: creates or imports a key in place and selects it. A generated private key is
// handed to the browser as a download, once: Compute does not keep it.
(function newKeyPair() {
    const form = document.getElementById("new-key-form");
    if (!form) return;
    document.querySelectorAll("a[data-open-details]").forEach(link =>
        link.addEventListener("click", () => { document.querySelector(link.getAttribute("href")).open = true; }));
    const status = document.getElementById("new-key-status");
    const show = (kind, text) => { status.className = `alert alert-${kind} mt-2`; status.textContent = text; };
    form.addEventListener("submit", async event => {
        event.preventDefault();
        const name = form.elements.name.value.trim();
        const response = await fetch(form.action, { method: "POST", body: new FormData(form), headers: { "X-Requested-With": "fetch" } });
        if (!response.ok) {
            let message = "The key pair was refused.";
            try { message = (await response.json()).message ?? message; } catch { /* not JSON */ }
            show("danger", message);
            return;
        }
        let text;
        if ((response.headers.get("Content-Type") ?? "").startsWith("application/x-pem-file")) {
            const url = URL.createObjectURL(await response.blob());
            const link = Object.assign(document.createElement("a"), { href: url, download: `${name}.pem` });
            document.body.appendChild(link);
            link.click();
            link.remove();
            setTimeout(() => URL.revokeObjectURL(url), 60_000);
            text = `Key pair ${name} created. Its private key was saved as ${name}.pem; keep it, it cannot be downloaded again.`;
        } else {
            const created = await response.json();
            text = `Key pair ${created.name} imported (${created.fingerprint}).`;
        }
        const select = document.getElementById("KeyName");
        select.add(new Option(name, name, true, true));
        select.dispatchEvent(new Event("change"));
        show("success", text);
        form.reset();
    });
})();
