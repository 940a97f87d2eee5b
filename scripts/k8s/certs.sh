#!/usr/bin/env bash
# Make the test cluster's credentials in $1: a CA, the API server's serving certificate for
# 127.0.0.1/localhost, the service-account signing key pair and bearer tokens (group
# system:masters) in token-auth-file format: `token` for test-admin (the tests, the controllers),
# `operator-token` for user `operator`, so an audit policy can select the operator's requests.
set -euo pipefail
dir=${1:?usage: certs.sh <dir>}
cd "$dir"
openssl genrsa -out ca.key 2048 2>/dev/null
openssl req -x509 -new -nodes -key ca.key -subj "/CN=videoanalysis-test-ca" -days 2 -out ca.crt 2>/dev/null
openssl genrsa -out apiserver.key 2048 2>/dev/null
openssl req -new -key apiserver.key -subj "/CN=kube-apiserver" -out apiserver.csr 2>/dev/null
cat >apiserver.ext <<EXT
basicConstraints=CA:FALSE
keyUsage=digitalSignature,keyEncipherment
extendedKeyUsage=serverAuth
subjectAltName=IP:127.0.0.1,IP:10.0.0.1,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc
EXT
openssl x509 -req -in apiserver.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 2 \
  -extfile apiserver.ext -out apiserver.crt 2>/dev/null
openssl genrsa -out sa.key 2048 2>/dev/null
openssl rsa -in sa.key -pubout -out sa.pub 2>/dev/null
token=$(openssl rand -hex 24)
operator_token=$(openssl rand -hex 24)
{
  echo "$token,test-admin,test-admin,\"system:masters\""
  echo "$operator_token,operator,operator,\"system:masters\""
} >tokens.csv
echo "$token" >token
echo "$operator_token" >operator-token
chmod 0600 ./*.key token operator-token tokens.csv
