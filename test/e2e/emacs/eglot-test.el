;;; eglot-test.el --- suite emacs: the eglot snippet of docs/editors.md (loaded as init.el) against the server  -*- lexical-binding: t -*-
;; Run by test/e2e/emacs/run.sh: emacs --batch -l init.el -l eglot-test.el, with KVM_LENS_TREE the test tree.
;; Checks the project root is the tree's top, eglot connects, hover shows the card, definition finds the enum member
;; in another (indexed) file, code actions offer suppress/explain. Prints PASS/FAIL lines; exits 0 when all passed.
(require 'eglot)
(require 'jsonrpc)
(defvar kvm-lens-test-passed 0)
(defvar kvm-lens-test-failed 0)
(defun kvm-lens-test-check (name ok &optional detail)
  (if ok (setq kvm-lens-test-passed (1+ kvm-lens-test-passed)) (setq kvm-lens-test-failed (1+ kvm-lens-test-failed)))
  (princ (format "%s [emacs] %s%s\n" (if ok "PASS" "FAIL") name (if detail (format " — %s" detail) ""))))
(defun kvm-lens-test-wait (pred seconds)
  (let ((end (+ (float-time) seconds)) v)
    (while (and (not (setq v (ignore-errors (funcall pred)))) (< (float-time) end))
      (accept-process-output nil 0.2))
    v))

(let* ((tree (file-name-as-directory (getenv "KVM_LENS_TREE")))
       (file (expand-file-name "arch/x86/kvm/vmx/nested.c" tree)))
  (find-file file)
  (kvm-lens-test-check "the C file opens in c-mode" (eq major-mode 'c-mode) (symbol-name major-mode))
  (let ((root (file-name-as-directory (expand-file-name (project-root (project-current))))))
    (kvm-lens-test-check "the project is the tree's top (MAINTAINERS), not the file's folder" (equal root tree) root))
  (apply #'eglot (eglot--guess-contact))
  (let ((server (kvm-lens-test-wait (lambda () (let ((s (eglot-current-server))) (and s (jsonrpc-running-p s) s))) 30)))
    (kvm-lens-test-check "eglot starts node dist/server.js and connects" server)
    (when server
      (goto-char (point-min))
      (search-forward "vmcs_read64(GUEST_PDPTR0")
      (backward-char 3)
      (let* ((hover (jsonrpc-request server :textDocument/hover (eglot--TextDocumentPositionParams)))
             (value (and hover (plist-get (plist-get hover :contents) :value))))
        (kvm-lens-test-check "hover on GUEST_PDPTR0: the card (0x280a)" (and value (string-match-p "0x280a" value))
                             (and value (car (split-string value "\n")))))
      (let ((defs (kvm-lens-test-wait
                   (lambda ()
                     (let ((r (jsonrpc-request server :textDocument/definition (eglot--TextDocumentPositionParams))))
                       (and (> (length r) 0)
                            (cl-some (lambda (l) (string-match-p "include/asm/vmx\\.h\\'" (plist-get l :uri))) r)
                            r)))
                   40)))
        (kvm-lens-test-check "definition: the enum member in arch/x86/include/asm/vmx.h (index of the project)" defs
                             (and defs (mapconcat (lambda (l) (replace-regexp-in-string "^.*/arch/" "arch/" (plist-get l :uri))) defs " "))))
      (let* ((p (eglot--pos-to-lsp-position))
             (actions (jsonrpc-request server :textDocument/codeAction
                                       (list :textDocument (eglot--TextDocumentIdentifier)
                                             :range (list :start p :end p)
                                             :context (list :diagnostics []))))
             (titles (mapcar (lambda (a) (plist-get a :title)) actions)))
        (kvm-lens-test-check "code actions: guard, suppress, explain"
                             (and (member "Guard with is_pae_paging(vcpu)" titles)
                                  (cl-some (lambda (x) (string-prefix-p "Suppress vmcs-undefined-read" x)) titles)
                                  (member "Explain GUEST_PDPTR0" titles))
                             (mapconcat #'identity titles " | ")))
      (ignore-errors (eglot-shutdown server)))))
(princ (format "[emacs] %d passed, %d failed (Emacs %s, eglot %s)\n" kvm-lens-test-passed kvm-lens-test-failed emacs-version
               (or (ignore-errors (package-desc-version (cadr (assq 'eglot package-alist)))) "built in")))
(kill-emacs (if (= kvm-lens-test-failed 0) 0 1))
